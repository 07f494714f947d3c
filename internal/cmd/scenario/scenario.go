// Package scenario is `lab scenario`: list, show, start, check, hint, solve, reset,
// status, stop, run and test. Each subcommand turns flags into options, makes one
// scenario engine call and renders what it returns.
package scenario

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/ui"
)

// NewCmd builds `lab scenario` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "scenario",
		Aliases: []string{"scenarios"},
		Short:   "Guided exercises: steps with instructions, graded checks, hints and solutions",
		Long: `A scenario is a guided exercise on a lab: a setup in a namespace of its own, then
steps, each with instructions, checks that grade it, hints given one at a time, and a
solution. Scenarios are built into lab; --dir loads a folder an instructor wrote.

A trainee starts one, follows the printed instructions, and runs "lab scenario check"
after each step: a passed step earns its points and prints the next one; a failed one
shows the evidence and offers a hint. "lab scenario test" proves a scenario for
authors and CI: each step's checks must fail before its solution and pass after it.

On a simulated lab, checks that need running containers (promql, alert, http) are
skipped, with the reason, and earn no points. See docs/scenarios.md.`,
		Example: `  lab scenario list
  lab scenario start k8s-basics
  lab scenario check
  lab scenario hint
  lab scenario status`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewListCmd(f),
		NewShowCmd(f),
		NewStartCmd(f),
		NewCheckCmd(f),
		NewHintCmd(f),
		NewSolveCmd(f),
		NewResetCmd(f),
		NewStatusCmd(f),
		NewStopCmd(f),
		NewRunCmd(f),
		NewTestCmd(f),
	)
	return cmd
}

// oneScenario takes exactly one scenario name.
func oneScenario(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return errs.Invalidf("see `lab scenario list` for the names", "%s takes one scenario name, got %d arguments", cmd.CommandPath(), len(args))
	}
	return nil
}

// completeScenarios completes a scenario name with the built-in ones (or --dir's).
func completeScenarios(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	dir, _ := cmd.Flags().GetString("dir")
	source, err := sourceOf(dir)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := loader(source)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.Names(), cobra.ShellCompDirectiveNoFileComp
}

// withProgress runs fn with progress rendered on stderr, closed when fn returns.
func withProgress(f *cmdutil.Factory, fn func(p ui.Progress) error) error {
	p := f.IO.Progress(ui.FormatTable)
	err := fn(p)
	p.Close()
	return err
}

// onLab runs one engine call for a command that needs a running lab, with progress on
// stderr.
func onLab[T any](ctx context.Context, f *cmdutil.Factory, c *Common, call func(*scenario.Engine) (T, error)) (T, error) {
	var res T
	err := withProgress(f, func(p ui.Progress) error {
		e, err := engine(ctx, f, c, p)
		if err != nil {
			return err
		}
		res, err = call(e)
		return err
	})
	return res, err
}

// engine builds the scenario engine for a command that needs a running lab.
func engine(ctx context.Context, f *cmdutil.Factory, c *Common, p ui.Progress) (*scenario.Engine, error) {
	e, err := newEngine(ctx, f, c, p, true)
	if err != nil {
		return nil, err
	}
	e.GradeEvents = p
	return e, nil
}
