package scenario

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Lab is the lab a scenario runs on, as the lab engine knows it.
type Lab struct {
	Name    string
	Context string
	// Kubeconfig is the lab's admin kubeconfig.
	Kubeconfig []byte
	// Simulated labs run no containers: checks that need them are skipped.
	Simulated bool
	// Dir is the lab's folder in the state dir: scenario.json and the trainee's files
	// go there, and `lab down` removes them with the lab.
	Dir string
}

// StackInstaller makes sure stacks are installed on the lab (lab's stacks installer).
type StackInstaller interface {
	EnsureStacks(ctx context.Context, stacks []string) error
}

// FaultRunner injects a chaos fault for its duration and reverts it (the chaos
// engine, with its guard rails and journal). It returns a one-line summary.
type FaultRunner interface {
	RunFault(ctx context.Context, f spec.Fault, source string) (string, error)
}

// Engine runs scenarios on one lab.
type Engine struct {
	Lab *Lab
	// Load reads the scenarios of a source: SourceEmbedded or a folder.
	Load func(source string) (*Catalog, error)
	// Source is where start, list, show and test find scenarios (--dir, or embedded);
	// the other commands use the source the running scenario was started from.
	Source string
	Stacks StackInstaller
	Faults FaultRunner
	Events *event.Emitter
	// GradeEvents receives a step per check while grading (nil: none).
	GradeEvents event.Sink

	// One command loads each source and connects to the lab once, however many
	// phases (stop, teardown, setup, solutions) it runs.
	mu       sync.Mutex
	catalogs map[string]*Catalog
	kube     *clients
}

// StepView is a step as a trainee sees it: placeholders replaced.
type StepView struct {
	// Index counts from 0; Number from 1.
	Index  int    `json:"index"`
	Number int    `json:"number"`
	Total  int    `json:"total"`
	Title  string `json:"title"`
	Text   string `json:"text"`
	Points int    `json:"points"`
	// Solution and Hints are filled for instructors.
	Solution string   `json:"solution,omitempty"`
	Hints    []string `json:"hints,omitempty"`
	// Round describes the chaos that runs while the step is graded.
	Round string `json:"round,omitempty"`
}

// placeholders are the values step texts name as {{name}}.
func (e *Engine) placeholders(sc *Scenario) map[string]string {
	return map[string]string{
		"context":   e.Lab.Context,
		"lab":       e.Lab.Name,
		"namespace": sc.Namespace(),
		"files":     e.filesPath(),
	}
}

// View renders step i of a scenario; instructor adds its solution and every hint.
func (e *Engine) View(sc *Scenario, i int, instructor bool) (*StepView, error) {
	step, err := sc.Step(i)
	if err != nil {
		return nil, err
	}
	values := e.placeholders(sc)
	text, err := readText(sc, step.Text, values)
	if err != nil {
		return nil, err
	}
	v := &StepView{Index: i, Number: i + 1, Total: len(sc.Spec.Steps), Title: step.Title, Text: text, Points: step.Points()}
	if step.Round != nil {
		v.Round = describeRound(step.Round)
	}
	if instructor {
		if v.Solution, err = e.solutionText(sc, step); err != nil {
			return nil, err
		}
		for _, c := range step.Checks {
			for _, h := range c.Hints {
				v.Hints = append(v.Hints, c.ID+": "+h)
			}
		}
	}
	return v, nil
}

// solutionText is the step's solution markdown, or a list of its actions.
func (e *Engine) solutionText(sc *Scenario, step *spec.Step) (string, error) {
	if step.Solution != "" {
		return readText(sc, step.Solution, e.placeholders(sc))
	}
	text := ""
	for _, a := range step.Solve {
		text += "- " + describeAction(&a) + "\n"
	}
	return text, nil
}

func describeRound(r *spec.Round) string {
	s := ""
	for i, f := range r.Faults {
		if i > 0 {
			s += ", "
		}
		s += describeFault(&f)
	}
	return fmt.Sprintf("%s, for %s", s, r.Duration)
}

func describeFault(f *spec.Fault) string {
	s := f.Type
	if f.Selector != "" {
		s += " " + f.Selector
	}
	if f.Count > 0 {
		s += fmt.Sprintf(" (%d at a time", f.Count)
		if f.Interval > 0 {
			s += fmt.Sprintf(", every %s", f.Interval)
		}
		s += ")"
	}
	return s
}

// Status is `lab scenario status`: where the trainee is.
type Status struct {
	Scenario *Scenario
	State    *State
	// Elapsed is the time since the start, up to the end once finished.
	Elapsed time.Duration
	Score   Score
	// Step is the current step; nil once finished.
	Step *StepView
}

// Status reports the running scenario.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	st, sc, err := e.running()
	if err != nil {
		return nil, err
	}
	out := &Status{Scenario: sc, State: st, Elapsed: e.elapsed(st), Score: st.Score()}
	if !st.Finished() {
		if out.Step, err = e.View(sc, st.Step, st.Instructor); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *Engine) elapsed(st *State) time.Duration {
	end := time.Now()
	if st.FinishedAt != nil {
		end = *st.FinishedAt
	}
	return end.Sub(st.StartedAt)
}

// lockRunning takes the progress lock and loads the running scenario; the caller
// releases the lock with unlock, which is nil when err is not.
func (e *Engine) lockRunning(ctx context.Context) (st *State, sc *Scenario, unlock func(), err error) {
	if unlock, err = e.exclusive(ctx); err != nil {
		return nil, nil, nil, err
	}
	if st, sc, err = e.running(); err != nil {
		unlock()
		return nil, nil, nil, err
	}
	return st, sc, unlock, nil
}

// lockNamed takes the progress lock and finds scenario name, like lockRunning.
func (e *Engine) lockNamed(ctx context.Context, name string) (sc *Scenario, unlock func(), err error) {
	if unlock, err = e.exclusive(ctx); err != nil {
		return nil, nil, err
	}
	if sc, err = e.Find(name); err != nil {
		unlock()
		return nil, nil, err
	}
	return sc, unlock, nil
}

// running loads the state and its scenario.
func (e *Engine) running() (*State, *Scenario, error) {
	st, err := e.current()
	if err != nil {
		return nil, nil, err
	}
	sc, err := e.scenarioOf(st)
	if err != nil {
		return nil, nil, err
	}
	if len(st.Steps) != len(sc.Spec.Steps) {
		return nil, nil, errs.Invalidf("start it again with `lab scenario start "+st.Scenario+"`",
			"scenario %s changed since it was started (it had %s, it has %d)", st.Scenario, count(len(st.Steps), "step"), len(sc.Spec.Steps))
	}
	return st, sc, nil
}

// scenarioOf finds the state's scenario where it was started from: lab's built-in
// scenarios, or the same --dir folder.
func (e *Engine) scenarioOf(st *State) (*Scenario, error) {
	c, err := e.load(st.Source)
	if err != nil {
		return nil, err
	}
	return c.Get(st.Scenario)
}

// Catalog is the scenarios of the engine's source.
func (e *Engine) Catalog() (*Catalog, error) { return e.load(e.source()) }

// load reads and validates a source's scenarios once per engine.
func (e *Engine) load(source string) (*Catalog, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.catalogs[source]; ok {
		return c, nil
	}
	c, err := e.Load(source)
	if err != nil {
		return nil, err
	}
	if e.catalogs == nil {
		e.catalogs = map[string]*Catalog{}
	}
	e.catalogs[source] = c
	return c, nil
}

func (e *Engine) source() string {
	if e.Source == "" {
		return SourceEmbedded
	}
	return e.Source
}

// Find is the scenario named name in the engine's source.
func (e *Engine) Find(name string) (*Scenario, error) {
	c, err := e.Catalog()
	if err != nil {
		return nil, err
	}
	return c.Get(name)
}
