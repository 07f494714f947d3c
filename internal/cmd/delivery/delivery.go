// Package delivery is `lab delivery`: the progressive deliveries of a lab's delivery
// stack (Argo Rollouts), their status, and the answers to a manual judgment: promote,
// abort, retry. No kubectl plugin is needed: lab speaks to the Rollout API itself.
package delivery

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of the `lab delivery` subcommands.
type Options struct {
	Name      string
	Namespace string
	Rollout   string
	Full      bool
}

// NewCmd builds `lab delivery` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delivery",
		Short: "Watch and steer progressive deliveries (Argo Rollouts): status, promote, abort, retry",
		Long: `The delivery stack runs Argo Rollouts: canary and blue/green rollouts, analysis
against Prometheus, and pauses that wait for a person's judgment, as Spinnaker's
manual judgment stage does. These commands show where each rollout is and answer
its judgment through the Rollout API, as the Argo Rollouts kubectl plugin would,
without needing the plugin.`,
		Example: `  lab delivery status
  lab delivery status backend -n demo-shop
  lab delivery promote backend
  lab delivery abort backend
  lab delivery retry backend`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newStatusCmd(f), newActionCmd(f, delivery.ActionPromote), newActionCmd(f, delivery.ActionAbort),
		newActionCmd(f, delivery.ActionRetry))
	return cmd
}

func addFlags(f *cmdutil.Factory, cmd *cobra.Command, opts *Options) {
	f.AddNameFlag(cmd, &opts.Name)
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "", "the rollout's namespace (default: every namespace, where the name must be unique)")
}

func newStatusCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "status [ROLLOUT]",
		Short: "Show the rollouts, or one with its versions and analysis runs",
		Long: `Without a name: every rollout (of -n's namespace, else of all), its strategy,
phase, step and weight. With a name: the rollout's details, its versions (replica
sets: stable, canary, preview) and its analysis runs with their measurements.`,
		Args: cmdutil.AtMostOneArg("rollout name", "lab delivery status backend -n demo-shop"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Rollout = args[0]
			}
			return runStatus(cmd.Context(), f, opts)
		},
	}
	addFlags(f, cmd, opts)
	return cmd
}

var actionHelp = map[string]struct{ short, long string }{
	delivery.ActionPromote: {"Promote a paused rollout: the manual judgment's yes",
		`Ends the rollout's pause (a pause step, a blue/green preview waiting for promotion,
an inconclusive analysis) so it goes on to its next step; --full skips every remaining
step and analysis and makes the new version stable at once.`},
	delivery.ActionAbort: {"Abort a rollout: traffic goes back to the stable version",
		`Scales the new version down and sends every request back to the stable version.
The rollout stays aborted (Degraded) until it is retried or its spec changes again.`},
	delivery.ActionRetry: {"Retry an aborted rollout from its first step", `Starts an aborted rollout again from its first step.`},
}

func newActionCmd(f *cmdutil.Factory, action string) *cobra.Command {
	opts := &Options{}
	help := actionHelp[action]
	cmd := &cobra.Command{
		Use:   action + " ROLLOUT",
		Short: help.short,
		Long:  help.long,
		Args:  cmdutil.OneArg("rollout name", "lab delivery "+action+" backend -n demo-shop"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Rollout = args[0]
			if opts.Full {
				return runAction(cmd.Context(), f, opts, delivery.ActionPromoteFull)
			}
			return runAction(cmd.Context(), f, opts, action)
		},
	}
	addFlags(f, cmd, opts)
	if action == delivery.ActionPromote {
		cmd.Flags().BoolVar(&opts.Full, "full", false, "skip every remaining step and analysis")
	}
	return cmd
}

// connect builds the delivery client of the lab's cluster, or of --kubeconfig and
// --context when given, and the output format, which every subcommand checks first.
func connect(ctx context.Context, f *cmdutil.Factory, opts *Options) (*delivery.Client, ui.Format, error) {
	format, err := f.Format()
	if err != nil {
		return nil, format, err
	}
	kubeconfig, err := f.ClusterKubeconfig(ctx, opts.Name)
	if err != nil {
		return nil, format, err
	}
	cfg, err := kube.RESTConfig(kubeconfig)
	if err != nil {
		return nil, format, errs.Wrap(errs.Invalid, err, "cannot read the kubeconfig", "")
	}
	c, err := kube.NewClients(cfg)
	if err != nil {
		return nil, format, errs.Wrap(errs.Unavailable, err, "cannot connect to the cluster", "")
	}
	return &delivery.Client{Dynamic: c.Dynamic, Kube: c.Typed}, format, nil
}

func runStatus(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	c, format, err := connect(ctx, f, opts)
	if err != nil {
		return err
	}
	if opts.Rollout != "" {
		ro, err := c.Get(ctx, opts.Namespace, opts.Rollout)
		if err != nil {
			return err
		}
		return f.IO.Printer(format).Print(ro, func() ui.View { return Details(ro) })
	}
	list, err := c.List(ctx, opts.Namespace)
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(list, func() ui.View { return Table(list) })
}

func runAction(ctx context.Context, f *cmdutil.Factory, opts *Options, action string) error {
	c, format, err := connect(ctx, f, opts)
	if err != nil {
		return err
	}
	ro, err := c.Act(ctx, opts.Namespace, opts.Rollout, action)
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(ro, func() ui.View {
		return ui.NewDetails().
			Add("Rollout", ro.Namespace+"/"+ro.Name).
			Add("Done", action).
			Note("the controller acts on it within seconds: `lab delivery status " + ro.Name + " -n " + ro.Namespace + "` shows where it goes")
	})
}

// Table lists rollouts, one a row.
func Table(list []*delivery.Rollout) ui.View {
	t := ui.NewTable("NAMESPACE", "ROLLOUT", "STRATEGY", "PHASE", "STEP", "WEIGHT", "ANALYSIS", "MESSAGE")
	for _, ro := range list {
		t.AddRow(ro.Namespace, ro.Name, ro.Strategy, phaseCell(ro), stepCell(ro), weightCell(ro), analysisCell(ro), ro.Message)
	}
	return t
}

// Details is one rollout: its state, its versions and its analysis runs.
func Details(ro *delivery.Rollout) ui.View {
	d := ui.NewDetails().
		Add("Rollout", ro.Namespace+"/"+ro.Name).
		Add("Strategy", ro.Strategy).
		Add("Phase", phaseCell(ro))
	if ro.Strategy == delivery.StrategyCanary {
		d.Add("Step", stepCell(ro)).Add("Weight", weightCell(ro))
	}
	d.Add("Stable", dash(ro.StableHash)).Add("Current", dash(ro.CurrentHash))
	if ro.Message != "" {
		d.Add("Message", ro.Message)
	}
	if next := nextAction(ro); next != "" {
		d.Note(next)
	}
	views := ui.Sections{d, versionsTable(ro)}
	if len(ro.Analysis) > 0 {
		views = append(views, analysisTable(ro))
	}
	return views
}

func versionsTable(ro *delivery.Rollout) ui.View {
	t := ui.NewTable("VERSION", "REVISION", "ROLE", "READY", "IMAGES")
	for _, rs := range ro.ReplicaSets {
		t.AddRow(rs.Hash, rs.Revision, rs.Role, fmt.Sprintf("%d/%d", rs.Ready, rs.Replicas), strings.Join(rs.Images, ", "))
	}
	return t
}

func analysisTable(ro *delivery.Rollout) ui.View {
	t := ui.NewTable("ANALYSIS RUN", "PHASE", "METRIC", "MEASUREMENTS", "PASS/FAIL/INCONCLUSIVE", "LAST VALUE")
	for _, a := range ro.Analysis {
		if len(a.Metrics) == 0 {
			t.AddRow(a.Name, a.Phase, "-", "0", "-", "-")
		}
		for _, m := range a.Metrics {
			t.AddRow(a.Name, a.Phase, m.Name, strconv.Itoa(m.Measurements),
				fmt.Sprintf("%d/%d/%d", m.Successful, m.Failed, m.Inconclusive), dash(m.Last))
		}
	}
	return t
}

// nextAction says what a person can do now.
func nextAction(ro *delivery.Rollout) string {
	ref := ro.Name + " -n " + ro.Namespace
	switch {
	case ro.Phase == "":
		return "no status yet: is the Argo Rollouts controller running? (`lab stacks list`)"
	case ro.Aborted:
		return "aborted: the stable version serves; `lab delivery retry " + ref + "` starts again"
	case len(ro.Paused) > 0:
		return "waiting for a judgment: `lab delivery promote " + ref + "` or `lab delivery abort " + ref + "`"
	}
	return ""
}

func phaseCell(ro *delivery.Rollout) string {
	p := dash(ro.Phase)
	if ro.Aborted {
		p += " (aborted)"
	}
	if len(ro.Paused) > 0 {
		p += " (" + strings.Join(ro.Paused, ", ") + ")"
	}
	return p
}

func stepCell(ro *delivery.Rollout) string {
	if ro.Step == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%d", min(*ro.Step, ro.Steps), ro.Steps)
}

func weightCell(ro *delivery.Rollout) string {
	if ro.Weight == nil {
		return "-"
	}
	return strconv.Itoa(*ro.Weight) + "%"
}

func analysisCell(ro *delivery.Rollout) string {
	if a := ro.LatestAnalysis(); a != nil {
		return a.Phase
	}
	return "-"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
