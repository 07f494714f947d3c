package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/ui"
)

// StartOptions of `lab scenario start`.
type StartOptions struct {
	Common
	Scenario   string
	Instructor bool
}

// NewStartCmd builds `lab scenario start NAME`.
func NewStartCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &StartOptions{}
	cmd := &cobra.Command{
		Use:   "start NAME",
		Short: "Start a scenario: its stacks, its namespace, its setup, and step 1",
		Long: `Start a scenario on a lab: install the stacks it needs that the lab lacks, create its
namespace (sc-NAME) afresh, run its setup, and print step 1 with its instructions.
A scenario in progress on the lab (another one, or this one) loses its progress and
namespace: start asks first, or goes ahead with --yes.

--instructor prints each step's solution and hints with it, for teaching.`,
		Example: `  lab scenario start k8s-basics
  lab scenario start helm-basics --name week2
  lab scenario start k8s-basics --instructor
  lab scenario start my-scenario --dir ./my-course --yes`,
		Args:              oneScenario,
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario = args[0]
			return runStart(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, true)
	cmd.Flags().BoolVar(&opts.Instructor, "instructor", false, "show each step's solution and hints as it goes")
	return cmd
}

func runStart(ctx context.Context, f *cmdutil.Factory, opts *StartOptions) error {
	res, err := onLab(ctx, f, &opts.Common, func(e *scenario.Engine) (*scenario.StartResult, error) {
		return e.Start(ctx, opts.Scenario, scenario.StartOptions{Instructor: opts.Instructor, Confirm: f.Confirm})
	})
	if err != nil {
		return err
	}
	return printStart(f, res, nextFor(&opts.Common), "Started")
}

func printStart(f *cmdutil.Factory, res *scenario.StartResult, n next, verb string) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	if format != ui.FormatTable {
		return f.IO.Printer(format).Print(startData(res), nil)
	}
	w := f.IO.Out
	sc := res.Scenario
	fmt.Fprintf(w, "%s scenario %s: %s\n%s\n", verb, sc.Metadata.Name, sc.Metadata.Title, strings.TrimSpace(sc.Spec.Summary))
	fmt.Fprintf(w, "%s, %s, about %s. Everything happens in namespace %s.\n", ui.Count(len(sc.Spec.Steps), "step"), ui.Count(sc.Points(), "point"), humanDuration(sc.Spec.Duration), sc.Namespace())
	if res.Files != "" {
		fmt.Fprintf(w, "Your files are in %s\n", res.Files)
	}
	if res.Limits != "" {
		fmt.Fprintf(w, "Note: %s: they are skipped on this lab and earn no points.\n", res.Limits)
	}
	writeStep(w, res.Step, n)
	return nil
}

// startData is a start or reset for -o json and yaml.
func startData(res *scenario.StartResult) map[string]any {
	return map[string]any{"scenario": res.Scenario.Metadata.Name, "step": res.Step, "limits": res.Limits,
		"files": res.Files, "replaced": res.Replaced}
}

// CheckOptions of `lab scenario check`.
type CheckOptions struct{ Common }

// NewCheckCmd builds `lab scenario check`.
func NewCheckCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Grade the current step; when it passes, move on to the next",
		Long: `Grade the current step of the running scenario. When every check passes, the step's
points are earned and the next step is printed; otherwise the evidence shows what
differs, and "lab scenario hint" gives a hint.

Exit codes: 0 when the step passed, 3 when a check failed, 4 when a check could not be
evaluated.`,
		Example: `  lab scenario check
  lab scenario check --name week2`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, false)
	return cmd
}

func runCheck(ctx context.Context, f *cmdutil.Factory, opts *CheckOptions) error {
	out, err := onLab(ctx, f, &opts.Common, func(e *scenario.Engine) (*scenario.CheckOutcome, error) { return e.Check(ctx) })
	if err != nil {
		return err
	}
	return printCheck(f, out, nextFor(&opts.Common))
}

// printCheck renders a check and turns a step not done into exit code 3 or 4.
func printCheck(f *cmdutil.Factory, out *scenario.CheckOutcome, n next) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	if format != ui.FormatTable {
		err = f.IO.Printer(format).Print(checkData(out), nil)
	} else {
		err = writeCheck(f.IO, out, n)
	}
	if err != nil || out.Report == nil {
		return err
	}
	return out.Report.Err()
}

// checkData is a check's outcome for -o json and yaml.
func checkData(out *scenario.CheckOutcome) map[string]any {
	return map[string]any{"scenario": out.Scenario.Metadata.Name, "report": out.Report, "next": out.Next,
		"finished": out.Finished, "score": out.Score, "hintsLeft": out.HintsLeft}
}

// HintOptions of `lab scenario hint`.
type HintOptions struct{ Common }

// NewHintCmd builds `lab scenario hint`.
func NewHintCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &HintOptions{}
	cmd := &cobra.Command{
		Use:   "hint",
		Short: "Show the next hint of the current step",
		Long: `Show the next hint of the current step: hints come one at a time, each more precise
than the one before, for the checks that did not pass at the last "lab scenario check".`,
		Example: `  lab scenario hint`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHint(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, false)
	return cmd
}

func runHint(ctx context.Context, f *cmdutil.Factory, opts *HintOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	e, err := newEngine(ctx, f, &opts.Common, nil, true)
	if err != nil {
		return err
	}
	h, err := e.Hint(ctx)
	if err != nil {
		return err
	}
	if format != ui.FormatTable {
		return f.IO.Printer(format).Print(h, nil)
	}
	n := nextFor(&opts.Common)
	if h.Hint == "" {
		fmt.Fprintf(f.IO.Out, "No more hints for step %d (%d shown). `%s` shows and applies the solution (it earns no points).\n", h.Step, h.Number, n.cmd("solve"))
		return nil
	}
	fmt.Fprintf(f.IO.Out, "Hint %d of %d (step %d, check %s):\n  %s\n", h.Number, h.Of, h.Step, h.CheckID, h.Hint)
	return nil
}

// SolveOptions of `lab scenario solve`.
type SolveOptions struct {
	Common
	Step int
}

// NewSolveCmd builds `lab scenario solve`.
func NewSolveCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &SolveOptions{}
	cmd := &cobra.Command{
		Use:   "solve",
		Short: "Show and apply the solution of the current step (or of --step N)",
		Long: `Apply the solution of the current step, show what it did, then grade the step and move
on. A step solved this way earns no points. --step N applies the solution of another
step without grading it.`,
		Example: `  lab scenario solve
  lab scenario solve --step 2`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("step") && opts.Step < 1 {
				return errs.Invalidf("steps count from 1", "--step must be at least 1, got %d", opts.Step)
			}
			return runSolve(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, false)
	cmd.Flags().IntVar(&opts.Step, "step", 0, "the step to solve, counting from 1 (default: the current step)")
	return cmd
}

func runSolve(ctx context.Context, f *cmdutil.Factory, opts *SolveOptions) error {
	res, err := onLab(ctx, f, &opts.Common, func(e *scenario.Engine) (*scenario.SolveResult, error) { return e.Solve(ctx, opts.Step) })
	if err != nil {
		return err
	}
	format, err := f.Format()
	if err != nil {
		return err
	}
	if format != ui.FormatTable {
		return printSolveData(f, format, res)
	}
	fmt.Fprintf(f.IO.Out, "Solution of step %d of %d: %s\n%s\n\n", res.Step.Number, res.Step.Total, res.Step.Title, indent(res.Solution))
	if res.Check == nil {
		fmt.Fprintln(f.IO.Out, "Applied. It was not the current step, so nothing was graded.")
		return nil
	}
	return printCheck(f, res.Check, nextFor(&opts.Common))
}

// printSolveData prints a solve as one JSON or YAML document, then fails like check
// when the step it graded did not pass.
func printSolveData(f *cmdutil.Factory, format ui.Format, res *scenario.SolveResult) error {
	data := map[string]any{"step": res.Step, "solution": res.Solution}
	if res.Check != nil {
		data["check"] = checkData(res.Check)
	}
	if err := f.IO.Printer(format).Print(data, nil); err != nil || res.Check == nil || res.Check.Report == nil {
		return err
	}
	return res.Check.Report.Err()
}

// ResetOptions of `lab scenario reset`.
type ResetOptions struct{ Common }

// NewResetCmd builds `lab scenario reset`.
func NewResetCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &ResetOptions{}
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Go back to the start of the running scenario, without rebuilding the cluster",
		Long: `Take the running scenario back to its start: its cleanup runs, its namespace is deleted
and created again, its setup runs again, and progress and score start over at step 1.
The cluster and its stacks stay as they are.`,
		Example: `  lab scenario reset
  lab scenario reset --yes`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReset(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, false)
	return cmd
}

func runReset(ctx context.Context, f *cmdutil.Factory, opts *ResetOptions) error {
	ok, err := f.Confirm("Start the scenario over? Your progress and everything in its namespace go.")
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "reset cancelled: nothing was changed", "")
	}
	res, err := onLab(ctx, f, &opts.Common, func(e *scenario.Engine) (*scenario.StartResult, error) { return e.Reset(ctx) })
	if err != nil {
		return err
	}
	return printStart(f, res, nextFor(&opts.Common), "Reset")
}

// StatusOptions of `lab scenario status`.
type StatusOptions struct{ Common }

// NewStatusCmd builds `lab scenario status`.
func NewStatusCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running scenario: step, score and time spent",
		Example: `  lab scenario status
  lab scenario status -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, false)
	return cmd
}

func runStatus(ctx context.Context, f *cmdutil.Factory, opts *StatusOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	e, err := newEngine(ctx, f, &opts.Common, nil, true)
	if err != nil {
		return err
	}
	st, err := e.Status(ctx)
	if err != nil {
		return err
	}
	data := map[string]any{"scenario": st.State.Scenario, "state": st.State, "score": st.Score, "elapsedSeconds": int(st.Elapsed.Seconds()), "step": st.Step}
	return f.IO.Printer(format).Print(data, func() ui.View { return statusDetails(st, nextFor(&opts.Common)) })
}

func statusDetails(st *scenario.Status, n next) *ui.Details {
	s := st.State
	d := ui.NewDetails().
		Add("Scenario", st.Scenario.Metadata.Name+": "+st.Scenario.Metadata.Title).
		Add("Namespace", s.Namespace)
	if st.Step != nil {
		d.Add("Step", fmt.Sprintf("%d of %d: %s", st.Step.Number, st.Step.Total, st.Step.Title))
	} else {
		d.Add("Step", "finished")
	}
	score := fmt.Sprintf("%d/%d (%d%%)", st.Score.Awarded, st.Score.Total, st.Score.Percent())
	if st.Score.Skipped > 0 {
		score += ", " + ui.Count(st.Score.Skipped, "point") + " skipped (need a real cluster)"
	}
	d.Add("Score", score).Add("Time spent", roundDuration(st.Elapsed))
	var steps []string
	for i, ss := range s.Steps {
		mark := " "
		switch {
		case ss.Passed:
			mark = "✓"
		case i == s.Step:
			mark = ">"
		}
		steps = append(steps, fmt.Sprintf("%s %d. %s  %s", mark, i+1, st.Scenario.Spec.Steps[i].Title, stepCell(ss)))
	}
	d.Add("Steps", strings.Join(steps, "\n"))
	if st.Step != nil {
		d.Note("run `" + n.cmd("check") + "` when step " + strconv.Itoa(st.Step.Number) + " is done")
	}
	return d
}

func stepCell(ss scenario.StepState) string {
	switch {
	case ss.Passed:
		return earned(ss)
	case ss.Attempts > 0:
		return ui.Count(ss.Attempts, "check") + " so far"
	}
	return ""
}

// StopOptions of `lab scenario stop`.
type StopOptions struct{ Common }

// NewStopCmd builds `lab scenario stop`.
func NewStopCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &StopOptions{}
	cmd := &cobra.Command{
		Use:     "stop",
		Short:   "End the running scenario: its cleanup runs, its namespace and progress go",
		Example: `  lab scenario stop --yes`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStop(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, false)
	return cmd
}

func runStop(ctx context.Context, f *cmdutil.Factory, opts *StopOptions) error {
	ok, err := f.Confirm("Stop the scenario? Your progress and everything in its namespace go.")
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "stop cancelled: nothing was changed", "")
	}
	st, err := onLab(ctx, f, &opts.Common, func(e *scenario.Engine) (*scenario.State, error) { return e.Stop(ctx) })
	if err != nil {
		return err
	}
	sc := st.Score()
	fmt.Fprintf(f.IO.Out, "Stopped scenario %s at step %d of %d, score %d/%d.\n", st.Scenario, min(st.Step+1, len(st.Steps)), len(st.Steps), sc.Awarded, sc.Total)
	return nil
}
