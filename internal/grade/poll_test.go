package grade

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/spec"
)

// scripted is a probe that returns the given outcomes in turn, then the last one again.
func scripted(outcomes ...Outcome) (probe, *int) {
	calls := 0
	return func(context.Context) observation {
		o := outcomes[min(calls, len(outcomes)-1)]
		calls++
		return observation{outcome: o, evidence: Evidence{Actual: string(o)}}
	}, &calls
}

func TestPoll(t *testing.T) {
	t.Parallel()
	check := func(consecutive int) *spec.Check {
		c := &spec.Check{ID: "c", Timeout: 2 * time.Second, Interval: 10 * time.Millisecond, Consecutive: consecutive}
		c.Default()
		return c
	}
	tests := []struct {
		name        string
		consecutive int
		once        bool
		outcomes    []Outcome
		want        Outcome
		calls       int  // exact evaluations, 0: not checked
		streakNote  bool // the evidence says the streak was too short
	}{
		{"passes at once", 1, false, []Outcome{Pass}, Pass, 1, false},
		{"flips to pass", 1, false, []Outcome{Fail, Fail, Pass}, Pass, 3, false},
		{"needs two in a row", 2, false, []Outcome{Pass, Fail, Pass, Pass}, Pass, 4, false},
		{"an error resets the streak", 2, false, []Outcome{Pass, Error, Pass, Pass}, Pass, 4, false},
		{"never passes", 1, false, []Outcome{Fail}, Fail, 0, false},
		{"ends on an error", 1, false, []Outcome{Fail, Error}, Error, 0, false},
		{"once takes the first answer", 3, true, []Outcome{Fail, Pass}, Fail, 1, false},
		{"once passes without a streak", 3, true, []Outcome{Pass}, Pass, 1, false},
		{"a streak cut by the timeout fails", 1000, false, []Outcome{Pass}, Fail, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, calls := scripted(tt.outcomes...)
			c := check(tt.consecutive)
			if tt.consecutive == 1000 {
				c.Consecutive, c.Timeout = 1000, 200*time.Millisecond
			}
			obs, attempts := (&Grader{Once: tt.once}).poll(context.Background(), c, p)
			if obs.outcome != tt.want || (tt.calls > 0 && (attempts != tt.calls || *calls != tt.calls)) {
				t.Fatalf("outcome %s after %d attempts (%d calls), want %s after %d", obs.outcome, attempts, *calls, tt.want, tt.calls)
			}
			if got := strings.Contains(obs.evidence.Actual, "consecutive evaluations needed"); got != tt.streakNote {
				t.Errorf("evidence %q: streak note %v, want %v", obs.evidence.Actual, got, tt.streakNote)
			}
		})
	}
}

// TestPollStopsOnAFinalObservation: a target that does not exist ends the check at once
// rather than at its timeout.
func TestPollStopsOnAFinalObservation(t *testing.T) {
	t.Parallel()
	c := &spec.Check{ID: "c", Timeout: time.Hour}
	c.Default()
	calls := 0
	p := func(context.Context) observation {
		calls++
		return unavailable(Evidence{}, ErrSimulatedPrometheus)
	}
	obs, _ := (&Grader{}).poll(context.Background(), c, p)
	if obs.outcome != Error || calls != 1 || obs.err != ErrSimulatedPrometheus.Error() {
		t.Fatalf("%s after %d calls: %q", obs.outcome, calls, obs.err)
	}
}
