package grade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudnativelab/lab/internal/spec"
)

// observation is what one evaluation of a check saw.
type observation struct {
	outcome  Outcome
	evidence Evidence
	err      string
	// final means polling again cannot change the outcome (a target that does not
	// exist, such as Prometheus on a simulated lab), so the check ends at once.
	final bool
}

// probe evaluates a check once.
type probe func(ctx context.Context) observation

func passed(ev Evidence) observation { return observation{outcome: Pass, evidence: ev} }
func failed(ev Evidence) observation { return observation{outcome: Fail, evidence: ev} }

// errored is an observation of a check that could not be evaluated; the evidence keeps
// what was asked and expected.
func errored(ev Evidence, actual string, err error) observation {
	ev.Actual = actual
	return observation{outcome: Error, evidence: ev, err: describeError(err)}
}

// unavailable ends a check whose target does not exist at all.
func unavailable(ev Evidence, err error) observation {
	o := errored(ev, "not evaluated", err)
	o.final = true
	return o
}

func describeError(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer before the check's timeout"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return err.Error()
}

// poll evaluates p every Interval until it passed Consecutive times in a row or the
// Timeout leaves no room for another evaluation; the deadline also bounds a single slow
// evaluation. It returns the last observation and the number of evaluations.
func (g *Grader) poll(ctx context.Context, c *spec.Check, p probe) (observation, int) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	streak, attempts := 0, 0
	var previous *observation
	for {
		attempts++
		obs := p(ctx)
		if previous != nil && obs.outcome == Error && ctx.Err() != nil {
			// The deadline cut this evaluation short: the one before it is the last
			// complete answer.
			return notEnough(*previous, streak, c.Consecutive), attempts - 1
		}
		previous = &obs
		if obs.outcome == Pass {
			streak++
		} else {
			streak = 0
		}
		switch {
		case obs.outcome == Pass && (streak >= c.Consecutive || g.Once):
			return obs, attempts
		case obs.final || g.Once || time.Until(deadline) <= c.Interval:
			return notEnough(obs, streak, c.Consecutive), attempts
		}
		select {
		case <-ctx.Done():
			return notEnough(obs, streak, c.Consecutive), attempts
		case <-time.After(c.Interval):
		}
	}
}

// notEnough turns a last passing evaluation that came too late to complete its streak
// into a failure that says so.
func notEnough(obs observation, streak, need int) observation {
	if obs.outcome != Pass || streak >= need {
		return obs
	}
	obs.outcome = Fail
	obs.evidence.Actual += fmt.Sprintf(" (held %d of the %d consecutive evaluations needed before the timeout)", streak, need)
	return obs
}

// probeFor picks the probe of the check's type, or one that reports why its target is
// missing.
func (g *Grader) probeFor(c *spec.Check) probe {
	t := g.Targets
	if t == nil {
		t = &Targets{}
	}
	switch {
	case c.PromQL != nil:
		return t.promqlProbe(c.PromQL)
	case c.Alert != nil:
		return t.alertProbe(c.Alert)
	case c.Resource != nil:
		return t.resourceProbe(c.Resource)
	case c.HTTP != nil:
		return t.httpProbe(c.HTTP)
	case c.Rollout != nil:
		return t.rolloutProbe(c.Rollout)
	}
	return func(context.Context) observation {
		return unavailable(Evidence{}, fmt.Errorf("check %q has no type", c.ID))
	}
}
