package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

// StartOptions are the options of `lab scenario start`.
type StartOptions struct {
	// Instructor shows hints and solutions with each step.
	Instructor bool
	// Confirm asks before a scenario in progress on the lab (another one, or this one
	// started over) loses its progress and namespace; nil goes ahead without asking.
	Confirm func(question string) (bool, error)
}

// StartResult is what `lab scenario start` did.
type StartResult struct {
	Scenario *Scenario
	State    *State
	Step     *StepView
	// Replaced names the scenario that was running on the lab and was stopped.
	Replaced string
	// Limits says what this lab cannot grade (a simulated lab), empty when all.
	Limits string
	// Files is where the trainee's files were copied, when the scenario has some.
	Files string
}

// Start runs a scenario from its beginning: the stacks it needs, a fresh namespace of
// its own, its setup, and its first step. A scenario already running on the lab is
// stopped first (its cleanup runs and its namespace goes).
func (e *Engine) Start(ctx context.Context, name string, opts StartOptions) (*StartResult, error) {
	sc, unlock, err := e.lockNamed(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &StartResult{Scenario: sc}
	_, res.Limits = sc.Supported(e.Lab.Simulated)
	if err := e.stopPrevious(ctx, res, opts.Confirm); err != nil {
		return nil, err
	}
	st, err := e.begin(ctx, sc, opts.Instructor)
	if err != nil {
		return nil, err
	}
	res.State = st
	if len(sc.Spec.Files) > 0 {
		res.Files = e.filesPath()
	}
	res.Step, err = e.View(sc, 0, opts.Instructor)
	return res, err
}

// stopPrevious tears down another scenario running on the lab, if any, once confirm
// agrees when it is not finished; the same one restarted is torn down by begin.
func (e *Engine) stopPrevious(ctx context.Context, res *StartResult, confirm func(string) (bool, error)) error {
	prev, err := e.loadState()
	if err != nil || prev == nil {
		return err
	}
	if !prev.Finished() && confirm != nil {
		score := prev.Score()
		what := "Stop it to start " + res.Scenario.Metadata.Name + "?"
		if prev.Scenario == res.Scenario.Metadata.Name {
			what = "Start it over?"
		}
		ok, err := confirm(fmt.Sprintf("Scenario %s is in progress on lab %s (step %d of %d, score %d/%d). %s Its progress and everything in namespace %s go.",
			prev.Scenario, e.Lab.Name, min(prev.Step+1, len(prev.Steps)), len(prev.Steps), score.Awarded, score.Total, what, prev.Namespace))
		if err != nil {
			return err
		}
		if !ok {
			return errs.New(errs.Invalid, "start cancelled: nothing was changed", "scenario "+prev.Scenario+" goes on where it was")
		}
	}
	res.Replaced = prev.Scenario
	if prev.Scenario == res.Scenario.Metadata.Name && prev.Source == res.Scenario.Source {
		return nil
	}
	e.Events.Warn(fmt.Sprintf("stopping scenario %s (step %d of %d) to start %s", prev.Scenario, min(prev.Step+1, len(prev.Steps)), len(prev.Steps), res.Scenario.Metadata.Name))
	return e.teardownState(ctx, prev)
}

// teardownState tears down the scenario a state records. One that cannot be loaded
// any more (a --dir that moved) still loses its namespace; its cleanup cannot run.
func (e *Engine) teardownState(ctx context.Context, st *State) error {
	if sc, err := e.scenarioOf(st); err == nil {
		return e.teardown(ctx, sc)
	}
	c, err := e.clients()
	if err != nil {
		return err
	}
	return e.step(ctx, "delete namespace "+st.Namespace, func(ctx context.Context) error { return c.deleteNamespace(ctx, st.Namespace) })
}

// begin sets the scenario up from nothing and writes a fresh state.
func (e *Engine) begin(ctx context.Context, sc *Scenario, instructor bool) (*State, error) {
	if err := e.prepare(ctx, sc); err != nil {
		return nil, err
	}
	if err := e.copyFiles(sc); err != nil {
		return nil, err
	}
	st := &State{
		Scenario: sc.Metadata.Name, Source: sc.Source, Namespace: sc.Namespace(), Instructor: instructor,
		StartedAt: time.Now().UTC(), Steps: make([]StepState, len(sc.Spec.Steps)),
	}
	for i := range st.Steps {
		st.Steps[i].Points = sc.Spec.Steps[i].Points()
	}
	return st, e.saveState(st)
}

func (e *Engine) ensureStacks(ctx context.Context, sc *Scenario) error {
	if len(sc.Spec.Stacks) == 0 {
		return nil
	}
	if e.Stacks == nil {
		return errs.New(errs.Unavailable, "scenario "+sc.Metadata.Name+" needs stacks, and no stack installer is available", "")
	}
	return e.Stacks.EnsureStacks(ctx, sc.Spec.Stacks)
}

// teardown removes what a scenario made: its cleanup actions, then its namespace.
func (e *Engine) teardown(ctx context.Context, sc *Scenario) error {
	c, err := e.clients()
	if err != nil {
		return err
	}
	if err := e.runActions(ctx, c, sc, "cleanup", sc.Spec.Cleanup); err != nil {
		return err
	}
	return e.step(ctx, "delete namespace "+sc.Namespace()+" if it exists", func(ctx context.Context) error {
		return c.deleteNamespace(ctx, sc.Namespace())
	})
}

// prepare brings the scenario to its start: the stacks it needs, what an earlier run
// left torn down, then its setup.
func (e *Engine) prepare(ctx context.Context, sc *Scenario) error {
	if err := e.ensureStacks(ctx, sc); err != nil {
		return err
	}
	if err := e.teardown(ctx, sc); err != nil {
		return err
	}
	return e.setup(ctx, sc)
}

// setup creates the scenario's namespace and runs its setup actions.
func (e *Engine) setup(ctx context.Context, sc *Scenario) error {
	c, err := e.clients()
	if err != nil {
		return err
	}
	err = e.step(ctx, "create namespace "+sc.Namespace(), func(ctx context.Context) error {
		return c.ensureNamespace(ctx, sc.Namespace(), e.Lab.Name)
	})
	if err != nil {
		return err
	}
	return e.runActions(ctx, c, sc, "setup", sc.Spec.Setup)
}

// step runs a progress step whose failure means the cluster did not do what was asked.
func (e *Engine) step(ctx context.Context, name string, fn func(context.Context) error) error {
	if err := e.Events.Step(ctx, name, fn); err != nil {
		if ctx.Err() != nil {
			return &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Hint: "run the command again to finish", Err: err}
		}
		return errs.Wrap(errs.Unavailable, err, name+" failed", "check the lab with `lab status`")
	}
	return nil
}

// clients connects to the lab once per engine.
func (e *Engine) clients() (*clients, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kube != nil {
		return e.kube, nil
	}
	c, err := newClients(e.Lab.Kubeconfig)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "lab "+e.Lab.Name+" has no usable kubeconfig", "run `lab up` to finish creating it")
	}
	e.kube = c
	return c, nil
}

// CheckOutcome is what `lab scenario check` found.
type CheckOutcome struct {
	Scenario *Scenario
	Report   *StepReport
	// Next is the step the trainee moves on to, when the checked step passed.
	Next *StepView
	// Finished is set when the last step passed.
	Finished bool
	Score    Score
	// HintsLeft counts the hints of the failed checks not shown yet.
	HintsLeft int
	State     *State
}

// Check grades the current step; when it passes, the trainee moves on to the next.
func (e *Engine) Check(ctx context.Context) (*CheckOutcome, error) {
	st, sc, unlock, err := e.lockRunning(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := &CheckOutcome{Scenario: sc, State: st}
	if st.Finished() {
		out.Finished, out.Score = true, st.Score()
		return out, nil
	}
	return e.checkStep(ctx, st, sc, out)
}

func (e *Engine) checkStep(ctx context.Context, st *State, sc *Scenario, out *CheckOutcome) (*CheckOutcome, error) {
	ss := &st.Steps[st.Step]
	rep, err := e.gradeStep(ctx, sc, st.Step, gradeOptions{hints: ss.Hints})
	if err != nil {
		return nil, err
	}
	out.Report = rep
	ss.Attempts++
	ss.Checks = ss.Checks[:0]
	for _, c := range rep.Checks {
		ss.Checks = append(ss.Checks, CheckState{ID: c.Result.ID, Outcome: c.Outcome})
	}
	if rep.Passed {
		e.completeStep(st, ss, rep)
		if st.Finished() {
			out.Finished = true
		} else if out.Next, err = e.View(sc, st.Step, st.Instructor); err != nil {
			return nil, err
		}
	} else {
		out.HintsLeft = hintsLeft(sc, st)
	}
	out.Score = st.Score()
	return out, e.saveState(st)
}

// completeStep records a passed step and moves on. A step solved by lab earns nothing.
func (e *Engine) completeStep(st *State, ss *StepState, rep *StepReport) {
	now := time.Now().UTC()
	ss.Passed, ss.CompletedAt, ss.SkippedPoints = true, &now, rep.SkippedPoints
	ss.Awarded = rep.Awarded
	if ss.Solved {
		ss.Awarded = 0
	}
	st.Step++
	if st.Step == len(st.Steps) {
		st.FinishedAt = &now
	}
}

// HintResult is the hint `lab scenario hint` gives.
type HintResult struct {
	Step    int    `json:"step"`
	CheckID string `json:"check,omitempty"`
	Hint    string `json:"hint,omitempty"`
	// Number counts the hints of the step shown so far, this one included; Of is all of
	// the step's hints.
	Number int `json:"number"`
	Of     int `json:"of"`
}

// Hint gives the next hint of the current step: the next one of the first check that
// did not pass last time (or of the first checks, before any check ran).
func (e *Engine) Hint(ctx context.Context) (*HintResult, error) {
	st, sc, unlock, err := e.lockRunning(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st.Finished() {
		return nil, errs.Invalidf("start another with `lab scenario start NAME`", "scenario %s is finished: there is nothing left to hint at", sc.Metadata.Name)
	}
	step := &sc.Spec.Steps[st.Step]
	ss := &st.Steps[st.Step]
	res := &HintResult{Step: st.Step + 1}
	for _, c := range step.Checks {
		res.Of += len(c.Hints)
		res.Number += min(ss.Hints[c.ID], len(c.Hints))
	}
	c := nextHintCheck(step, ss)
	if c == nil {
		return res, nil
	}
	if ss.Hints == nil {
		ss.Hints = map[string]int{}
	}
	res.CheckID, res.Hint = c.ID, c.Hints[ss.Hints[c.ID]]
	ss.Hints[c.ID]++
	res.Number++
	return res, e.saveState(st)
}

// nextHintCheck is the first check with hints left among those that did not pass last
// time; nil when there are none.
func nextHintCheck(step *spec.Step, ss *StepState) *spec.Check {
	passed := map[string]bool{}
	for _, c := range ss.Checks {
		passed[c.ID] = c.Outcome == Pass
	}
	for i := range step.Checks {
		c := &step.Checks[i]
		if !passed[c.ID] && ss.Hints[c.ID] < len(c.Hints) {
			return c
		}
	}
	return nil
}

func hintsLeft(sc *Scenario, st *State) int {
	step, ss := &sc.Spec.Steps[st.Step], &st.Steps[st.Step]
	n := 0
	for _, c := range step.Checks {
		n += len(c.Hints) - min(ss.Hints[c.ID], len(c.Hints))
	}
	return n
}

// SolveResult is what `lab scenario solve` did.
type SolveResult struct {
	Step     *StepView
	Solution string
	// Check is the grading that followed, when the solved step was the current one.
	Check *CheckOutcome
}

// Solve runs the solution of a step (the current one when step is 0, else step, 1-based).
// Solving the current step grades it and moves on, but earns no points.
func (e *Engine) Solve(ctx context.Context, step int) (*SolveResult, error) {
	st, sc, unlock, err := e.lockRunning(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	index := st.Step
	if step > 0 {
		index = step - 1
	}
	if st.Finished() && step == 0 {
		return nil, errs.Invalidf("pass --step N to run one step's solution again", "scenario %s is finished", sc.Metadata.Name)
	}
	view, err := e.View(sc, index, true)
	if err != nil {
		return nil, err
	}
	res := &SolveResult{Step: view, Solution: view.Solution}
	if err := e.runSolution(ctx, sc, index); err != nil {
		return nil, err
	}
	if index != st.Step || st.Finished() {
		return res, nil
	}
	st.Steps[index].Solved = true
	res.Check, err = e.checkStep(ctx, st, sc, &CheckOutcome{Scenario: sc, State: st})
	return res, err
}

func (e *Engine) runSolution(ctx context.Context, sc *Scenario, index int) error {
	c, err := e.clients()
	if err != nil {
		return err
	}
	return e.runActions(ctx, c, sc, fmt.Sprintf("solve step %d", index+1), sc.Spec.Steps[index].Solve)
}

// Reset takes the running scenario back to its start without rebuilding the cluster:
// cleanup, a fresh namespace, setup again, and a new state at step 1.
func (e *Engine) Reset(ctx context.Context) (*StartResult, error) {
	st, sc, unlock, err := e.lockRunning(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fresh, err := e.begin(ctx, sc, st.Instructor)
	if err != nil {
		return nil, err
	}
	res := &StartResult{Scenario: sc, State: fresh}
	_, res.Limits = sc.Supported(e.Lab.Simulated)
	res.Step, err = e.View(sc, 0, fresh.Instructor)
	return res, err
}

// Stop ends the running scenario: its cleanup runs, its namespace and progress go.
// It returns the final state.
func (e *Engine) Stop(ctx context.Context) (*State, error) {
	unlock, err := e.exclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := e.current()
	if err != nil {
		return nil, err
	}
	if err := e.teardownState(ctx, st); err != nil {
		return nil, err
	}
	return st, e.removeState()
}
