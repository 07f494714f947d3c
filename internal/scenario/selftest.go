package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Verdict of a check in a self-test.
type Verdict string

const (
	// Proven: the check did not pass before the step's solution and passed after it.
	Proven Verdict = "ok"
	// Unproven: it passed before the solution (it cannot tell whether the step was
	// done) or did not pass after it (the solution does not do the step, or the check
	// asks for something else).
	Unproven Verdict = "bad"
	// NotRun: this lab cannot evaluate it (a simulated lab); never counted as proven.
	NotRun Verdict = "skipped"
)

// TestCheck is one check's behaviour in a self-test.
type TestCheck struct {
	ID      string  `json:"id"`
	Step    int     `json:"step"`
	Before  Outcome `json:"before"`
	After   Outcome `json:"after"`
	Verdict Verdict `json:"verdict"`
	// Why explains a bad or skipped verdict.
	Why string `json:"why,omitempty"`
}

// TestReport is the self-test of one scenario.
type TestReport struct {
	Scenario string        `json:"scenario"`
	Checks   []TestCheck   `json:"checks"`
	Proven   int           `json:"proven"`
	Bad      int           `json:"bad"`
	Skipped  int           `json:"skipped"`
	Duration time.Duration `json:"-"`
	// Error is a setup or solution that failed: the test could not go on.
	Error string `json:"error,omitempty"`
}

// OK is true when nothing was bad and nothing failed.
func (r *TestReport) OK() bool { return r.Bad == 0 && r.Error == "" }

// TestOptions are the options of `lab scenario test`.
type TestOptions struct {
	// Keep leaves the scenario's namespace as the solutions left it.
	Keep bool
}

// Test proves a scenario on a fresh namespace: setup, then for each step its checks
// must not pass, then its solution runs, then they must pass. Checks the lab cannot
// evaluate are reported skipped with the reason, never as proven. Before a solution,
// checks are evaluated once (a step not done yet shows at once) except in a gameday
// round, which runs in full both times: at rest, the steady state may well hold.
func (e *Engine) Test(ctx context.Context, name string, opts TestOptions) (*TestReport, error) {
	sc, unlock, err := e.lockNamed(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := e.refuseRunning(sc); err != nil {
		return nil, err
	}
	start := time.Now()
	rep := &TestReport{Scenario: sc.Metadata.Name}
	if err := e.testSteps(ctx, sc, rep); err != nil {
		if errs.KindOf(err) == errs.Interrupted {
			return nil, err
		}
		rep.Error = err.Error()
	}
	if !opts.Keep {
		if err := e.teardown(context.WithoutCancel(ctx), sc); err != nil && rep.Error == "" {
			rep.Error = err.Error()
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// refuseRunning keeps a self-test from wiping a trainee's scenario in progress.
func (e *Engine) refuseRunning(sc *Scenario) error {
	st, err := e.loadState()
	if err != nil || st == nil || st.Namespace != sc.Namespace() || st.Finished() {
		return err
	}
	return errs.Invalidf("stop it first with `lab scenario stop`, or test on another lab (--name)",
		"scenario %s is running on lab %q (step %d of %d): a self-test would start it over", st.Scenario, e.Lab.Name, st.Step+1, len(st.Steps))
}

func (e *Engine) testSteps(ctx context.Context, sc *Scenario, rep *TestReport) error {
	if err := e.prepare(ctx, sc); err != nil {
		return err
	}
	source := "scenario test " + sc.Metadata.Name
	for i := range sc.Spec.Steps {
		var before, after *StepReport
		err := e.Events.Step(ctx, fmt.Sprintf("step %d: checks before the solution", i+1), func(ctx context.Context) error {
			var err error
			before, err = e.gradeStep(ctx, sc, i, gradeOptions{once: sc.Spec.Steps[i].Round == nil, source: source})
			return err
		})
		if err != nil {
			return err
		}
		if err := e.runSolution(ctx, sc, i); err != nil {
			return err
		}
		err = e.Events.Step(ctx, fmt.Sprintf("step %d: checks after the solution", i+1), func(ctx context.Context) error {
			var err error
			after, err = e.gradeStep(ctx, sc, i, gradeOptions{source: source})
			return err
		})
		if err != nil {
			return err
		}
		rep.add(i, before, after)
	}
	return nil
}

func (r *TestReport) add(step int, before, after *StepReport) {
	for j := range after.Checks {
		b, a := before.Checks[j], after.Checks[j]
		tc := TestCheck{ID: a.Result.ID, Step: step + 1, Before: b.Outcome, After: a.Outcome}
		tc.Verdict, tc.Why = verdict(b, a)
		switch tc.Verdict {
		case Proven:
			r.Proven++
		case NotRun:
			r.Skipped++
		default:
			r.Bad++
		}
		r.Checks = append(r.Checks, tc)
	}
}

// verdict judges a check from its results before and after the solution.
func verdict(before, after CheckResult) (Verdict, string) {
	switch {
	case before.Outcome == Skipped || after.Outcome == Skipped:
		reason := after.Reason
		if after.Outcome != Skipped {
			reason = before.Reason
		}
		return NotRun, reason
	case before.Outcome == Pass:
		return Unproven, "passed before the solution: it cannot tell whether the step was done"
	case after.Outcome != Pass:
		return Unproven, fmt.Sprintf("did not pass after the solution (%s: %s)", after.Outcome, after.Result.Summary())
	}
	return Proven, ""
}
