package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/ui"
)

// RunOptions of `lab scenario run`.
type RunOptions struct {
	Common
	Scenario string
	Auto     bool
	Pause    time.Duration
}

// NewRunCmd builds `lab scenario run NAME --auto`.
func NewRunCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run NAME --auto",
		Short: "Demonstrate a scenario: start it, then solve and check each step, with pauses",
		Long: `Demonstrate a scenario from start to finish, for a class watching: start it in
instructor mode, then for each step print it, pause, apply its solution, grade it and
pause again. The scenario stays on the lab afterwards, finished.`,
		Example: `  lab scenario run k8s-basics --auto
  lab scenario run helm-basics --auto --pause 10s`,
		Args:              oneScenario,
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario = args[0]
			if !opts.Auto {
				return errs.Invalidf("pass --auto; to do it yourself, `lab scenario start "+opts.Scenario+"`",
					"lab scenario run only demonstrates a scenario on its own, with --auto")
			}
			if opts.Pause < 0 {
				return errs.Invalidf("", "--pause must not be negative, got %s", opts.Pause)
			}
			return runAuto(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, true)
	cmd.Flags().BoolVar(&opts.Auto, "auto", false, "solve and check every step on its own")
	cmd.Flags().DurationVar(&opts.Pause, "pause", 5*time.Second, "pause after showing a step and after checking it")
	return cmd
}

func runAuto(ctx context.Context, f *cmdutil.Factory, opts *RunOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	if format != ui.FormatTable {
		return errs.Invalidf("`lab scenario test NAME -o "+string(format)+"` reports the same checks for programs",
			"lab scenario run --auto is a demonstration for people: -o %s is not supported", format)
	}
	p := f.IO.Progress(ui.FormatTable)
	defer p.Close()
	e, err := engine(ctx, f, &opts.Common, p)
	if err != nil {
		return err
	}
	res, err := e.Start(ctx, opts.Scenario, scenario.StartOptions{Instructor: true, Confirm: f.Confirm})
	if err != nil {
		return err
	}
	n := nextFor(&opts.Common)
	if err := printStart(f, res, n, "Demonstrating"); err != nil {
		return err
	}
	for range res.Scenario.Spec.Steps {
		if err := pause(ctx, opts.Pause); err != nil {
			return err
		}
		solved, err := e.Solve(ctx, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "\n--- lab scenario solve: step %d ---\n", solved.Step.Number)
		if err := printCheck(f, solved.Check, n); err != nil {
			return err
		}
	}
	return nil
}

func pause(ctx context.Context, d time.Duration) error {
	if d == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
	case <-time.After(d):
		return nil
	}
}

// TestOptions of `lab scenario test`.
type TestOptions struct {
	Common
	Scenarios []string
	All       bool
	Keep      bool
}

// NewTestCmd builds `lab scenario test NAME|--all`.
func NewTestCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &TestOptions{}
	cmd := &cobra.Command{
		Use:   "test NAME...|--all",
		Short: "Prove scenarios: each step's checks fail before its solution and pass after it",
		Long: `Self-test scenarios, for their authors and for CI. For each scenario, on a fresh
namespace: its setup runs, then for each step its checks must not pass, its solution
runs, and its checks must pass. A check that passes before the solution cannot tell
whether the step was done; one that fails after it asks for something the solution
does not do: both fail the test.

Checks this lab cannot evaluate (promql, alert and http on a simulated lab) are
reported as skipped, with the reason, and never count as proven. The exit code is 0
only when every other check behaved; 3 otherwise (1 when a setup or solution failed).`,
		Example: `  lab scenario test --all
  lab scenario test my-scenario --dir ./my-course
  lab scenario test --all -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.All == (len(args) > 0) {
				return errs.Invalidf("name scenarios, or pass --all", "lab scenario test takes scenario names or --all, not both and not neither")
			}
			return nil
		},
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenarios = args
			return runTest(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(f, cmd, true)
	cmd.Flags().BoolVar(&opts.All, "all", false, "test every scenario")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "leave each scenario's namespace as its solutions left it")
	return cmd
}

func runTest(ctx context.Context, f *cmdutil.Factory, opts *TestOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	reports, err := testScenarios(ctx, f, opts)
	if err != nil {
		return err
	}
	if err := f.IO.Printer(format).Print(reports, func() ui.View { return testTable(reports) }); err != nil {
		return err
	}
	return testVerdict(f, reports)
}

func testScenarios(ctx context.Context, f *cmdutil.Factory, opts *TestOptions) ([]*scenario.TestReport, error) {
	if opts.All { // every scenario, or none: the folder's problems come before the lab's
		if err := allLoad(opts.Dir); err != nil {
			return nil, err
		}
	}
	p := f.IO.Progress(ui.FormatTable)
	defer p.Close()
	e, err := engine(ctx, f, &opts.Common, p)
	if err != nil {
		return nil, err
	}
	names := opts.Scenarios
	if opts.All {
		c, err := e.Catalog()
		if err != nil {
			return nil, err
		}
		names = c.Names()
	}
	var reports []*scenario.TestReport
	for _, name := range names {
		rep, err := e.Test(ctx, name, scenario.TestOptions{Keep: opts.Keep})
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep)
	}
	return reports, nil
}

// allLoad is nil when every scenario of --dir (or lab's) loads: a broken one would
// make "all passed" a lie.
func allLoad(dir string) error {
	source, err := sourceOf(dir)
	if err != nil {
		return err
	}
	c, err := loader(source)
	if err != nil {
		return err
	}
	return c.Err()
}

// testVerdict sums up and picks the exit code.
func testVerdict(f *cmdutil.Factory, reports []*scenario.TestReport) error {
	failed, errored, proven, skipped := 0, 0, 0, 0
	for _, r := range reports {
		proven += r.Proven
		skipped += r.Skipped
		switch {
		case r.Error != "":
			errored++
		case !r.OK():
			failed++
		}
	}
	f.IO.Notef("%s: %s proven, %d skipped (need a real cluster), %d with bad checks, %d that could not run",
		ui.Count(len(reports), "scenario"), ui.Count(proven, "check"), skipped, failed, errored)
	switch {
	case errored > 0:
		return errs.New(errs.Unavailable, ui.Count(errored, "scenario")+" could not be tested: a setup or solution failed", "the WHY column says what failed")
	case failed > 0:
		return errs.New(errs.ChecksFailed, ui.Count(failed, "scenario")+" with checks that do not tell a done step from one not done", "the WHY column says, for each bad check, what it did")
	}
	return nil
}
