package scenario

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

func compareGolden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", file, got)
	}
}

func testScenario() *scenario.Scenario {
	return &scenario.Scenario{Scenario: &spec.Scenario{Metadata: spec.ScenarioMetadata{Name: "demo", Title: "A demo"}}}
}

func testState(steps int, finished bool) *scenario.State {
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	st := &scenario.State{Scenario: "demo", StartedAt: start, Steps: make([]scenario.StepState, steps)}
	if finished {
		end := start.Add(12*time.Minute + 3*time.Second)
		st.FinishedAt = &end
	}
	return st
}

func checkResult(id string, outcome scenario.Outcome, points, awarded int, reason string, ev grade.Evidence) scenario.CheckResult {
	return scenario.CheckResult{Outcome: outcome, Reason: reason, Result: grade.Result{
		ID: id, Description: "what " + id + " wants", Outcome: grade.Outcome(outcome), Points: points, Awarded: awarded,
		Severity: spec.SeverityError, Evidence: ev, Error: reason,
	}}
}

// TestRenderCheck renders `lab scenario check` as a log or a pipe shows it: a failed
// step with evidence and a skipped check, a passed step with the next one, the end.
func TestRenderCheck(t *testing.T) {
	t.Parallel()
	failedDiff := grade.Evidence{Object: "Deployment sc-demo/hello (apps/v1)", Expected: "exists with the fields of match", Actual: "1 field differs",
		Diff: []string{"spec.replicas: expected 3, got 1"}}
	skip := "needs a real cluster (simulated lab: no Prometheus runs)"
	failed := &scenario.StepReport{Index: 0, Title: "Scale it", Points: 25, Awarded: 0, SkippedPoints: 5, Checks: []scenario.CheckResult{
		checkResult("three-replicas", scenario.Fail, 20, 0, "", failedDiff),
		checkResult("metric", scenario.Skipped, 5, 0, skip, grade.Evidence{Query: "up"}),
	}}
	passed := &scenario.StepReport{Index: 0, Title: "Scale it", Passed: true, Points: 20, Awarded: 20, Checks: []scenario.CheckResult{
		checkResult("three-replicas", scenario.Pass, 20, 20, "", grade.Evidence{Actual: "exists and matches"}),
	}}
	nextStep := &scenario.StepView{Number: 2, Total: 2, Title: "Expose it", Text: "Run:\n\n    kubectl expose deployment hello", Points: 10}
	doneState := testState(2, false)
	doneState.Steps[0] = scenario.StepState{Passed: true, Awarded: 20, Points: 20}
	lastState := testState(2, true)
	lastState.Steps[0] = scenario.StepState{Passed: true, Awarded: 20, Points: 20}
	lastState.Steps[1] = scenario.StepState{Passed: true, Solved: true, Points: 20}
	tests := []struct {
		name string
		out  *scenario.CheckOutcome
		n    next
	}{
		{"check-failed", &scenario.CheckOutcome{Scenario: testScenario(), Report: failed, HintsLeft: 2, State: testState(2, false), Score: scenario.Score{Total: 40}}, next{}},
		{"check-passed", &scenario.CheckOutcome{Scenario: testScenario(), Report: passed, Next: nextStep, State: doneState, Score: scenario.Score{Awarded: 20, Total: 40}}, next{nameFlag: " --name week2"}},
		{"check-finished", &scenario.CheckOutcome{Scenario: testScenario(), Report: passed, Finished: true, State: lastState, Score: scenario.Score{Awarded: 20, Total: 40, Skipped: 5}}, next{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			io, _, out, _ := ui.Test()
			if err := writeCheck(io, tt.out, tt.n); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, "testdata/"+tt.name+".golden", out.String())
		})
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Minute: "1h30m", 45*time.Minute + 20*time.Second: "45m"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
