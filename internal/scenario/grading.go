package scenario

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Outcome of a check in a scenario: grade's pass, fail and error, and skipped for a
// check this lab cannot evaluate at all (a simulated lab has no Prometheus and runs no
// container). Skipped is never passed: it earns no points.
type Outcome string

const (
	Pass    = Outcome(grade.Pass)
	Fail    = Outcome(grade.Fail)
	Error   = Outcome(grade.Error)
	Skipped = Outcome("skipped")
)

// CheckResult is one check's result in a step.
type CheckResult struct {
	Result  grade.Result `json:"result"`
	Outcome Outcome      `json:"outcome"`
	// Reason says why a check was skipped or errored.
	Reason string `json:"reason,omitempty"`
}

// StepReport is the grading of one step.
type StepReport struct {
	Index  int           `json:"index"`
	Title  string        `json:"title"`
	Checks []CheckResult `json:"checks"`
	// Passed: every check of severity error passed or was skipped.
	Passed        bool `json:"passed"`
	Awarded       int  `json:"awarded"`
	Points        int  `json:"points"`
	SkippedPoints int  `json:"skippedPoints,omitempty"`
	// Round lists what the chaos of a gameday round did.
	Round []string `json:"round,omitempty"`
}

// Err is nil for a passed step; otherwise errs.ChecksErrored (exit 4) when a check
// could not be evaluated, else errs.ChecksFailed (exit 3), as `lab grade` decides.
func (r *StepReport) Err() error {
	failed, errored := 0, 0
	for _, c := range r.Checks {
		if c.Result.Severity != spec.SeverityError {
			continue
		}
		switch c.Outcome {
		case Fail:
			failed++
		case Error:
			errored++
		}
	}
	switch {
	case errored > 0:
		return errs.New(errs.ChecksErrored, "step "+itoa(r.Index+1)+": a check could not be evaluated",
			"the report says why; fix the cause (a lab without the stack, a cluster that does not answer) and check again")
	case failed > 0:
		// No hint: the report above already offers one.
		return errs.New(errs.ChecksFailed, "step "+itoa(r.Index+1)+" is not done yet", "")
	}
	return nil
}

// Count is how many checks ended with an outcome.
func (r *StepReport) Count(o Outcome) int {
	n := 0
	for _, c := range r.Checks {
		if c.Outcome == o {
			n++
		}
	}
	return n
}

func classify(r grade.Result) CheckResult {
	out := CheckResult{Result: r, Outcome: Outcome(r.Outcome), Reason: r.Error}
	if grade.NeedsRealCluster(r) {
		out.Outcome = Skipped
	}
	return out
}

// gradeOptions say how a step is graded.
type gradeOptions struct {
	// once evaluates each check a single time, without polling or chaos: enough to
	// show that a step is not done yet.
	once  bool
	hints map[string]int
	// source names who runs a round's faults, for the chaos journal.
	source string
	// events receives a step per check instead of the engine's GradeEvents.
	events event.Sink
}

// gradeStep grades a step's checks, during its gameday round when it has one.
func (e *Engine) gradeStep(ctx context.Context, sc *Scenario, index int, opts gradeOptions) (*StepReport, error) {
	step, err := sc.Step(index)
	if err != nil {
		return nil, err
	}
	targets, closeTargets, err := grade.Connect(ctx, grade.ConnectOptions{
		Kubeconfig: e.Lab.Kubeconfig, Simulated: e.Lab.Simulated,
	}, step.Checks)
	if err != nil {
		return nil, err
	}
	defer closeTargets()
	events := e.GradeEvents
	if opts.events != nil {
		events = opts.events
	}
	g := &grade.Grader{Targets: targets, HintLevel: opts.hints, Events: events, Once: opts.once}
	rep := &StepReport{Index: index, Title: step.Title}
	var report *grade.Report
	if step.Round != nil && !opts.once {
		rep.Round, report, err = e.gradeDuringRound(ctx, sc, step, g, opts.source)
		if err != nil {
			return nil, err
		}
	} else {
		report = g.Run(ctx, sc.Metadata.Name, step.Checks)
	}
	if ctx.Err() != nil {
		return nil, &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
	}
	rep.total(report)
	return rep, nil
}

// total fills the outcomes and points from grade's report.
func (r *StepReport) total(report *grade.Report) {
	r.Passed = true
	for _, res := range report.Checks {
		c := classify(res)
		r.Checks = append(r.Checks, c)
		r.Points += res.Points
		switch c.Outcome {
		case Pass:
			r.Awarded += res.Points
		case Skipped:
			r.SkippedPoints += res.Points
		default:
			if res.Severity == spec.SeverityError {
				r.Passed = false
			}
		}
	}
}

// gradeDuringRound injects the round's faults and grades the checks while they are
// active: the checks are the steady state the round must not break. The faults are
// reverted (by the chaos engine) before it returns.
func (e *Engine) gradeDuringRound(ctx context.Context, sc *Scenario, step *spec.Step, g *grade.Grader, source string) ([]string, *grade.Report, error) {
	if e.Faults == nil {
		return nil, nil, errs.New(errs.Unavailable, "this step runs chaos, and chaos is not available here", "")
	}
	if source == "" {
		source = "scenario " + sc.Metadata.Name
	}
	faultCtx, stopFaults := context.WithCancel(ctx)
	defer stopFaults()
	summaries := make([]string, len(step.Round.Faults))
	faultErrs := make([]error, len(step.Round.Faults))
	var wg sync.WaitGroup
	for i, f := range step.Round.Faults {
		f.Duration = step.Round.Duration
		wg.Go(func() { summaries[i], faultErrs[i] = e.Faults.RunFault(faultCtx, f, source) })
	}
	e.Events.Info("chaos round: " + describeRound(step.Round) + "; the checks must hold meanwhile")
	report := g.Run(ctx, sc.Metadata.Name, step.Checks)
	wg.Wait() // each fault lasts the round's duration, then the chaos engine reverts it
	for i, err := range faultErrs {
		if err != nil && ctx.Err() == nil {
			return nil, nil, errs.Wrap(errs.KindOf(err), err, "the chaos round's fault "+step.Round.Faults[i].Type+" failed", errs.HintOf(err))
		}
	}
	return summaries, report, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// ProgressReport is every step of a running scenario graded at one moment.
type ProgressReport struct {
	Scenario string `json:"scenario"`
	// Step is the trainee's current step (from 0; the number of steps when finished).
	Step  int           `json:"step"`
	Steps []*StepReport `json:"steps"`
}

// Progress grades every step of the running scenario once: no polling, no round's
// chaos, and the trainee's state is left as it is (no step is passed, no hint
// shown). It is what is done in the lab right now, for an instructor's scoreboard.
func (e *Engine) Progress(ctx context.Context) (*ProgressReport, error) {
	st, sc, unlock, err := e.lockRunning(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rep := &ProgressReport{Scenario: sc.Metadata.Name, Step: st.Step}
	for i := range sc.Spec.Steps {
		step, err := e.gradeStep(ctx, sc, i, gradeOptions{once: true, events: event.Discard})
		if err != nil {
			return nil, err
		}
		rep.Steps = append(rep.Steps, step)
	}
	return rep, nil
}
