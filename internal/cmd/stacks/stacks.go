// Package stacks is `lab stacks`: list the catalog and what a lab has, add and remove
// stacks. Each subcommand turns flags into options, makes one engine call and renders.
package stacks

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of the `lab stacks` subcommands.
type Options struct {
	Name    string
	Stacks  []string
	Offline bool
}

// NewCmd builds `lab stacks` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stacks",
		Short: "List, add and remove the stacks of a lab",
		Long: `Stacks are tool sets installed on a lab from Helm charts built into lab (or pinned
upstream charts): monitoring (Prometheus, Alertmanager, Grafana), demo-shop (an
application to observe and break) and delivery (Argo Rollouts: canary and blue/green
rollouts with analysis). A lab file lists the stacks "lab up" installs; these
commands change a lab that is up.`,
		Example: `  lab stacks list
  lab stacks add demo-shop
  lab stacks remove demo-shop --yes`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newListCmd(f), newAddCmd(f), newRemoveCmd(f))
	return cmd
}

// runner is a subcommand's RunE: it takes the stack names from args into opts, then runs.
func runner(f *cmdutil.Factory, opts *Options, run func(context.Context, *cmdutil.Factory, *Options) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		opts.Stacks = args
		return run(cmd.Context(), f, opts)
	}
}

// stackArgs requires at least one stack name, as invalid input otherwise.
func stackArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return errs.Invalidf("see `lab stacks list` for the catalog", "%s needs at least one stack name", cmd.CommandPath())
	}
	return nil
}

func completeStacks(f *cmdutil.Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		m := f.Manager(event.Discard)
		if m.Catalog == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return m.Catalog.Names(), cobra.ShellCompDirectiveNoFileComp
	}
}

func labName(ctx context.Context, m *lab.Manager, name string) string {
	if name == "" {
		return cmdutil.DefaultLabName(ctx, m)
	}
	return name
}

func newListCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the stack catalog, and what a lab has installed",
		Long: `List every stack lab can install, with its namespace and chart, and, when the lab
exists and answers, whether each is installed, the installed chart version, Helm's
release status and whether its workloads are ready.`,
		Example: `  lab stacks list
  lab stacks list --name week2 -o json`,
		Args: cmdutil.NoArgs,
		RunE: runner(f, opts, runList),
	}
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func runList(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	m := f.Manager(event.Discard)
	list, err := m.ListStacks(ctx, labName(ctx, m, opts.Name))
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(list, func() ui.View { return Table(list) })
}

// Table is the human view of `lab stacks list`.
func Table(list []stack.Status) *ui.Table {
	t := ui.NewTable("NAME", "NAMESPACE", "CHART", "VERSION", "INSTALLED", "STATUS", "DESCRIPTION")
	for _, s := range list {
		installed, status := "no", "-"
		if s.Installed {
			installed, status = fmt.Sprintf("yes (revision %d)", s.Revision), statusCell(s)
		}
		t.AddRow(s.Name, s.Namespace, s.Chart, orDash(s.Version), installed, status, s.Description)
	}
	return t
}

func statusCell(s stack.Status) string {
	switch {
	case s.Ready:
		return s.Release + ", ready"
	case len(s.NotReady) > 0:
		return s.Release + ", not ready: " + strings.Join(s.NotReady, "; ")
	default:
		return s.Release + ", not ready"
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newAddCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "add NAME...",
		Short: "Install stacks on a lab that is up",
		Long: `Install stacks, and the stacks they depend on, on a lab that is up, with the lab's
profile, and wait until they work. A stack already installed with the same chart
version and values is left alone.`,
		Example: `  lab stacks add demo-shop
  lab stacks add monitoring demo-shop --name week2`,
		Args:              stackArgs,
		ValidArgsFunction: completeStacks(f),
		RunE:              runner(f, opts, runAdd),
	}
	f.AddNameFlag(cmd, &opts.Name)
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "take upstream charts from lab's cache only (filled by lab pull)")
	return cmd
}

func runAdd(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	m := f.Manager(progress)
	name := labName(ctx, m, opts.Name)
	rels, err := m.AddStacks(ctx, name, opts.Stacks, lab.StackOptions{Offline: opts.Offline})
	if err != nil {
		return err
	}
	progress.Emit(event.Event{Type: event.Result, Message: fmt.Sprintf("stacks %s ready on lab %q", strings.Join(opts.Stacks, ", "), name),
		Fields: map[string]string{"name": name, "stacks": strings.Join(opts.Stacks, ","), "releases": releaseList(rels)}})
	return nil
}

func releaseList(rels []stack.Release) string {
	parts := make([]string, len(rels))
	for i, r := range rels {
		parts[i] = fmt.Sprintf("%s:%s", r.Name, r.Action)
	}
	return strings.Join(parts, ",")
}

func newRemoveCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:     "remove NAME...",
		Aliases: []string{"rm"},
		Short:   "Uninstall stacks from a lab",
		Long: `Uninstall stacks from a lab: their Helm releases, every object of them, and the
namespaces lab created for them, waiting until they are gone. Data the stacks kept
(dashboards, metrics) is lost. Removing a stack that is not installed succeeds.`,
		Example: `  lab stacks remove demo-shop
  lab stacks remove monitoring --name week2 --yes`,
		Args:              stackArgs,
		ValidArgsFunction: completeStacks(f),
		RunE:              runner(f, opts, runRemove),
	}
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func runRemove(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	if _, err := f.Format(); err != nil {
		return err
	}
	// Asked before any progress is drawn, so the prompt stands alone.
	name := labName(ctx, f.Manager(event.Discard), opts.Name)
	ok, err := f.Confirm(fmt.Sprintf("Remove %s from lab %q? What they hold is lost.", strings.Join(opts.Stacks, ", "), name))
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "remove cancelled", "")
	}
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	if err := f.Manager(progress).RemoveStacks(ctx, name, opts.Stacks); err != nil {
		return err
	}
	progress.Emit(event.Event{Type: event.Result, Message: fmt.Sprintf("stacks %s removed from lab %q", strings.Join(opts.Stacks, ", "), name),
		Fields: map[string]string{"name": name, "stacks": strings.Join(opts.Stacks, ",")}})
	return nil
}
