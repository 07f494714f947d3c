package scenario

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/grade"
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
	// Diff lists, for a check that did not pass after the solution, each field that
	// differed: "path: expected X, got Y".
	Diff []string `json:"diff,omitempty"`
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
			before, err = e.gradeStep(ctx, sc, i, gradeOptions{once: sc.Spec.Steps[i].Round == nil, source: source, events: e.selfTestEvents(true)})
			if err == nil && before.Count(Pass) > 0 {
				err = unproven(count(before.Count(Pass), "check") + " passed before the solution")
			}
			return err
		})
		if !isUnproven(err) {
			return err
		}
		if err := e.runSolution(ctx, sc, i); err != nil {
			return err
		}
		err = e.Events.Step(ctx, fmt.Sprintf("step %d: checks after the solution", i+1), func(ctx context.Context) error {
			var err error
			after, err = e.gradeStep(ctx, sc, i, gradeOptions{source: source, events: e.selfTestEvents(false)})
			if n := len(after.Checks) - after.Count(Pass) - after.Count(Skipped); err == nil && n > 0 {
				err = unproven(count(n, "check") + " did not pass after the solution")
			}
			return err
		})
		if !isUnproven(err) {
			return err
		}
		rep.add(i, before, after)
	}
	return nil
}

// unproven is a self-test phase whose checks did not behave: its progress step shows a
// cross, and the test goes on (the report says which checks and why).
type unproven string

func (u unproven) Error() string { return string(u) }

// isUnproven is true for nil and for an unproven phase: the errors a self-test goes
// on after.
func isUnproven(err error) bool {
	var u unproven
	return err == nil || errors.As(err, &u)
}

// count is n and a noun, plural unless n is 1: "1 check", "2 checks".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// selfTestEvents marks each check of a self-test by what it should do: before the
// solution a failing check is right (a tick) and a passing one wrong (a cross); after
// it, the other way round. A check this lab cannot evaluate is skipped either way.
func (e *Engine) selfTestEvents(beforeSolution bool) event.Sink {
	if e.GradeEvents == nil {
		return nil
	}
	return selfTestSink{sink: e.GradeEvents, before: beforeSolution}
}

type selfTestSink struct {
	sink   event.Sink
	before bool
}

func (s selfTestSink) Emit(ev event.Event) {
	switch {
	case ev.Type == event.StepFail && grade.NeedsRealCluster(grade.Result{Outcome: grade.Error, Error: ev.Error}):
		ev.Type, ev.Message, ev.Error = event.StepSkip, "needs a real cluster (simulated lab)", ""
	case !s.before:
	case ev.Type == event.StepDone:
		ev.Type, ev.Error = event.StepFail, "passed before the solution: it cannot tell whether the step was done"
	case ev.Type == event.StepFail:
		outcome, _, _ := strings.Cut(ev.Error, ":")
		ev.Type, ev.Error = event.StepDone, ""
		ev.Fields = map[string]string{"before": outcome + ", as it should before the solution"}
	}
	s.sink.Emit(ev)
}

func (r *TestReport) add(step int, before, after *StepReport) {
	for j := range after.Checks {
		b, a := before.Checks[j], after.Checks[j]
		tc := TestCheck{ID: a.Result.ID, Step: step + 1, Before: b.Outcome, After: a.Outcome}
		tc.Verdict, tc.Why = verdict(b, a)
		if tc.Verdict == Unproven && a.Outcome != Pass {
			tc.Diff = a.Result.Evidence.Diff
		}
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
		detail := after.Result.Summary()
		if diff := after.Result.Evidence.Diff; len(diff) > 0 && after.Outcome == Fail {
			detail = strings.Join(diff, "; ") // each field, with what was expected and found
		}
		return Unproven, fmt.Sprintf("did not pass after the solution (%s: %s)", after.Outcome, detail)
	}
	return Proven, ""
}
