package scenario

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/state"
)

// StateFile is the trainee's progress, in the lab's folder of the state dir.
const StateFile = "scenario.json"

// filesDir is where a scenario's files for the trainee are copied, in the lab's folder.
const filesDir = "scenario-files"

// State is a trainee's progress through the scenario running on a lab.
type State struct {
	Scenario string `json:"scenario"`
	// Source is "embedded" or the folder the scenario was loaded from (--dir).
	Source    string `json:"source"`
	Namespace string `json:"namespace"`
	// Instructor shows hints and solutions as the trainee goes.
	Instructor bool `json:"instructor,omitempty"`
	// Step is the index of the current step; the number of steps once finished.
	Step       int         `json:"step"`
	StartedAt  time.Time   `json:"startedAt"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
	Steps      []StepState `json:"steps"`
}

// StepState is what happened in one step.
type StepState struct {
	// Hints counts the hints shown, by check id: the next one is the one after.
	Hints    map[string]int `json:"hints,omitempty"`
	Attempts int            `json:"attempts"`
	Passed   bool           `json:"passed"`
	// Solved is a step done by `lab scenario solve`: it scores no points.
	Solved bool `json:"solved,omitempty"`
	// Awarded are the points earned when it passed.
	Awarded int `json:"awarded"`
	Points  int `json:"points"`
	// SkippedPoints are points of checks that could not run on this lab.
	SkippedPoints int          `json:"skippedPoints,omitempty"`
	Checks        []CheckState `json:"checks,omitempty"`
	CompletedAt   *time.Time   `json:"completedAt,omitempty"`
}

// CheckState is the last outcome of one check.
type CheckState struct {
	ID      string  `json:"id"`
	Outcome Outcome `json:"outcome"`
}

// Finished is true once every step passed.
func (s *State) Finished() bool { return s.FinishedAt != nil }

// Score adds up the steps: points earned, points of all checks, points skipped.
func (s *State) Score() Score {
	var sc Score
	for _, st := range s.Steps {
		sc.Awarded += st.Awarded
		sc.Total += st.Points
		sc.Skipped += st.SkippedPoints
	}
	return sc
}

// Score is a trainee's points.
type Score struct {
	Awarded int `json:"awarded"`
	Total   int `json:"total"`
	// Skipped are points of checks that could not be graded on this lab (a simulated
	// lab): never awarded.
	Skipped int `json:"skipped"`
}

// Percent is Awarded over Total, rounded down to a whole percent.
func (s Score) Percent() int {
	if s.Total == 0 {
		return 0
	}
	return s.Awarded * 100 / s.Total
}

func (e *Engine) statePath() string { return filepath.Join(e.Lab.Dir, StateFile) }

// loadState reads the lab's scenario state; nil when no scenario was started.
func (e *Engine) loadState() (*State, error) {
	var st State
	err := state.ReadJSON(e.statePath(), &st)
	if errors.Is(err, state.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "reading the scenario's progress", "start the scenario again with `lab scenario start NAME`")
	}
	return &st, nil
}

// current is the lab's scenario state, or an error saying to start one.
func (e *Engine) current() (*State, error) {
	st, err := e.loadState()
	if err == nil && st == nil {
		err = errs.Invalidf("start one with `lab scenario start NAME`; `lab scenario list` shows them",
			"no scenario is running on lab %q", e.Lab.Name)
	}
	return st, err
}

func (e *Engine) saveState(st *State) error {
	if err := state.WriteJSON(e.statePath(), st, 0o600); err != nil {
		return errs.Wrap(errs.Internal, err, "saving the scenario's progress", "")
	}
	return nil
}

func (e *Engine) removeState() error {
	err := os.Remove(e.statePath())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return errs.Wrap(errs.Internal, err, "removing the scenario's progress", "")
	}
	return os.RemoveAll(filepath.Join(e.Lab.Dir, filesDir))
}

// lockFile serialises the scenario commands of one lab: two checks at once would each
// write their own progress over the other's.
const lockFile = "scenario.lock"

// lockWait is how long a second scenario command waits for the first.
const lockWait = 2 * time.Second

// exclusive takes the lab's scenario lock; call the returned func when done.
func (e *Engine) exclusive(ctx context.Context) (func(), error) {
	l, err := state.Acquire(ctx, filepath.Join(e.Lab.Dir, lockFile), lockWait)
	var locked *state.ErrLocked
	switch {
	case errors.As(err, &locked):
		who := "another lab scenario command"
		if locked.Holder != "" {
			who += " (pid " + locked.Holder + ")"
		}
		return nil, errs.New(errs.Busy, who+" is running on lab "+e.Lab.Name, "wait for it to finish and try again")
	case err != nil:
		return nil, errs.Wrap(errs.Internal, err, "locking the scenario's progress", "")
	}
	return func() { l.Release() }, nil
}
