// Package cmdutil holds what every command shares: the global flags, the factory of
// lazily built dependencies (the GitHub CLI's pattern) and small helpers for flags and
// completion. Commands get a *Factory and never build their dependencies themselves, so
// tests can hand them fakes or real engines on temporary state.
package cmdutil

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Globals are the flags every command accepts.
type Globals struct {
	Kubeconfig string
	Context    string
	Output     string
	Verbose    int
	NoColor    bool
	Yes        bool
}

// BuildInfo describes this binary.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date,omitempty"`
}

// Factory builds what commands need, when they need it.
type Factory struct {
	IO      *ui.IO
	Globals *Globals
	Build   BuildInfo
	// Manager returns the lab engine with progress going to sink.
	Manager func(sink event.Sink) *lab.Manager
	// ScenarioEngine returns the scenario engine of a running lab (built-in
	// scenarios), with progress going to sink.
	ScenarioEngine func(ctx context.Context, labName string, sink event.Sink) (*scenario.Engine, error)
}

// Format is the validated -o value.
func (f *Factory) Format() (ui.Format, error) { return ui.ParseFormat(f.Globals.Output) }

// Confirm asks the user unless --yes was given.
func (f *Factory) Confirm(question string) (bool, error) {
	return f.IO.Confirm(question, f.Globals.Yes)
}

// Progress starts the renderer for the current output format; Close it when done.
func (f *Factory) Progress() (ui.Progress, error) {
	format, err := f.Format()
	if err != nil {
		return nil, err
	}
	return f.IO.Progress(format), nil
}

// DefaultLabName picks the lab a command means when --name is not given: the only lab
// when there is exactly one, else "default".
func DefaultLabName(ctx context.Context, m *lab.Manager) string {
	if names, err := m.Names(); err == nil && len(names) == 1 {
		return names[0]
	}
	return "default"
}

// PickLab is DefaultLabName for commands that must not act on a guess: with several
// labs, none named "default", it is an error listing them (`lab down` would otherwise
// report "nothing to delete" and leave every lab in place).
func PickLab(ctx context.Context, m *lab.Manager) (string, error) {
	names, err := m.Names()
	if err != nil || len(names) < 2 || slices.Contains(names, "default") {
		return DefaultLabName(ctx, m), nil
	}
	return "", errs.Invalidf(fmt.Sprintf("pick one with --name (for example --name %s)", names[0]),
		"there are %d labs (%s) and none is named \"default\"", len(names), strings.Join(names, ", "))
}

// CompleteLabNames completes --name with the labs that exist.
func (f *Factory) CompleteLabNames(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	names, _ := f.Manager(event.Discard).Names()
	return names, cobra.ShellCompDirectiveNoFileComp
}

// LockWait is how long a second lab process waits for a lab's lock: $LAB_LOCK_WAIT
// (a Go duration) or 10 seconds.
func LockWait() time.Duration {
	if v := os.Getenv("LAB_LOCK_WAIT"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		if s, err := strconv.Atoi(v); err == nil {
			return time.Duration(s) * time.Second
		}
	}
	return 10 * time.Second
}
