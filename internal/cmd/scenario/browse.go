package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// ListOptions of `lab scenario list`.
type ListOptions struct{ Common }

// NewListCmd builds `lab scenario list`.
func NewListCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the scenarios, and whether each can be fully graded on the lab",
		Long: `List the scenarios (built into lab, or those of --dir) and whether the lab can grade
every check of each.

A scenario folder that cannot be loaded does not hide the others: it is listed as
BROKEN (with a "problems" list in -o json), every problem is printed as
file:line: field: message, and the exit code is 2, so that a script notices; the good
scenarios can still be started.`,
		Example: `  lab scenario list
  lab scenario list --dir ./my-course -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, true)
	return cmd
}

// Entry is one scenario as list and show report it.
type Entry struct {
	Name     string   `json:"name"`
	Title    string   `json:"title"`
	Level    string   `json:"level"`
	Duration string   `json:"duration"`
	Stacks   []string `json:"stacks"`
	Steps    int      `json:"steps"`
	Points   int      `json:"points"`
	// Supported says whether the lab can grade every check; nil without a lab.
	Supported *bool  `json:"supported,omitempty"`
	Limits    string `json:"limits,omitempty"`
	Source    string `json:"source"`
	// Problems are why a scenario folder could not be loaded (file:line: field:
	// message each); the other fields but name and source are then empty.
	Problems []string `json:"problems,omitempty"`
}

func summarize(sc *scenario.Scenario, l *scenario.Lab) Entry {
	s := Entry{
		Name: sc.Metadata.Name, Title: sc.Metadata.Title, Level: sc.Spec.Level, Duration: humanDuration(sc.Spec.Duration),
		Stacks: sc.Spec.Stacks, Steps: len(sc.Spec.Steps), Points: sc.Points(), Source: sc.Source,
	}
	if s.Stacks == nil {
		s.Stacks = []string{}
	}
	if l != nil {
		ok, why := sc.Supported(l.Simulated)
		s.Supported, s.Limits = &ok, why
	}
	return s
}

func runList(ctx context.Context, f *cmdutil.Factory, opts *ListOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	e, err := newEngine(ctx, f, &opts.Common, event.Discard, false)
	if err != nil {
		return err
	}
	c, err := e.Catalog()
	if err != nil {
		return err
	}
	list := make([]Entry, 0, len(c.Scenarios)+len(c.Broken))
	for _, sc := range c.Scenarios {
		list = append(list, summarize(sc, e.Lab))
	}
	for _, b := range c.Broken {
		list = append(list, Entry{Name: b.Folder, Stacks: []string{}, Source: c.Source, Problems: problemLines(b.Err)})
	}
	if err := f.IO.Printer(format).Print(list, func() ui.View { return listTable(list, e.Lab) }); err != nil {
		return err
	}
	return brokenErr(c)
}

// brokenErr fails a listing that has broken scenarios with exit 2, after printing the
// good ones: the folder is invalid input, and a script or CI job must notice it, while
// a trainee still sees what can be started.
func brokenErr(c *scenario.Catalog) error {
	if len(c.Broken) == 0 {
		return nil
	}
	names := make([]string, len(c.Broken))
	for i, b := range c.Broken {
		names[i] = b.Folder
	}
	msg := fmt.Sprintf("%s in %s cannot be loaded (%s)", ui.Count(len(c.Broken), "scenario"), c.Source, strings.Join(names, ", "))
	if len(c.Scenarios) > 0 {
		msg += "; the others can be started"
	}
	return errs.Wrap(errs.Invalid, c.Err(), msg, "docs/scenarios.md describes every field of a scenario; the good ones can be started as they are")
}

// problemLines is an error's problems, one a line.
func problemLines(err error) []string {
	var list spec.ErrorList
	if errors.As(err, &list) {
		lines := make([]string, len(list))
		for i, p := range list {
			lines[i] = p.Error()
		}
		return lines
	}
	return []string{err.Error()}
}

func listTable(list []Entry, l *scenario.Lab) *ui.Table {
	header := "ON THIS LAB"
	if l != nil {
		header = "ON LAB " + strings.ToUpper(l.Name)
	}
	t := ui.NewTable("NAME", "TITLE", "LEVEL", "DURATION", "STACKS", header)
	for _, s := range list {
		if len(s.Problems) > 0 {
			t.AddRow(s.Name, "BROKEN: "+ui.Count(len(s.Problems), "problem")+" (listed below)", "-", "-", "-", "cannot start")
			continue
		}
		t.AddRow(s.Name, s.Title, s.Level, s.Duration, orNone(strings.Join(s.Stacks, ", ")), supportCell(s))
	}
	return t
}

func supportCell(s Entry) string {
	switch {
	case s.Supported == nil:
		return "no lab"
	case *s.Supported:
		return "yes"
	}
	return "partly: " + s.Limits
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ShowOptions of `lab scenario show`.
type ShowOptions struct {
	Common
	Scenario string
}

// NewShowCmd builds `lab scenario show NAME`.
func NewShowCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a scenario: summary, stacks and steps",
		Example: `  lab scenario show k8s-basics
  lab scenario show alerting --dir ./my-course`,
		Args:              oneScenario,
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario = args[0]
			return runShow(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, true)
	return cmd
}

// Shown is a scenario as `lab scenario show -o json` gives it.
type Shown struct {
	Entry
	Summary string      `json:"summary"`
	Steps   []ShownStep `json:"stepList"`
}

// ShownStep is one step of a shown scenario.
type ShownStep struct {
	Title  string   `json:"title"`
	Points int      `json:"points"`
	Checks []string `json:"checks"`
}

func runShow(ctx context.Context, f *cmdutil.Factory, opts *ShowOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	e, err := newEngine(ctx, f, &opts.Common, event.Discard, false)
	if err != nil {
		return err
	}
	sc, err := e.Find(opts.Scenario)
	if err != nil {
		return err
	}
	shown := Shown{Entry: summarize(sc, e.Lab), Summary: strings.TrimSpace(sc.Spec.Summary)}
	for _, st := range sc.Spec.Steps {
		s := ShownStep{Title: st.Title, Points: st.Points()}
		for _, c := range st.Checks {
			s.Checks = append(s.Checks, c.ID+" ("+c.Type()+")")
		}
		shown.Steps = append(shown.Steps, s)
	}
	start := startCommand(&opts.Common, sc.Metadata.Name)
	return f.IO.Printer(format).Print(shown, func() ui.View { return showDetails(sc, shown, start) })
}

// startCommand is the command that starts a scenario with the flags it was found
// with: a --dir scenario is not found without its --dir.
func startCommand(c *Common, name string) string {
	cmd := "lab scenario start " + name
	if c.Dir != "" {
		cmd += " --dir " + shellQuote(c.Dir)
	}
	return cmd + nextFor(c).nameFlag
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func showDetails(sc *scenario.Scenario, s Shown, start string) *ui.Details {
	d := ui.NewDetails().
		Add("Name", s.Name).
		Add("Title", s.Title).
		Add("Summary", s.Summary).
		Add("Level", s.Level).
		Add("Duration", s.Duration).
		Add("Stacks", orNone(strings.Join(s.Stacks, ", "))).
		Add("Namespace", sc.Namespace()).
		Add("Points", fmt.Sprint(s.Points))
	var steps []string
	for i, st := range s.Steps {
		steps = append(steps, fmt.Sprintf("%d. %s (%s: %s)", i+1, st.Title, ui.Count(st.Points, "point"), strings.Join(st.Checks, ", ")))
	}
	d.Add("Steps", strings.Join(steps, "\n"))
	if s.Supported != nil && !*s.Supported {
		d.Note(s.Limits + ": they are skipped on this lab")
	}
	if s.Source != scenario.SourceEmbedded {
		d.Add("Source", s.Source)
	}
	return d.Note("start it with `" + start + "`")
}
