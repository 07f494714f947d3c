// Package chaos is `lab chaos`: list, run, status, revert and gameday. Each subcommand
// turns flags into options, resolves the lab, makes one engine call and renders.
package chaos

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
)

// NewCmd builds `lab chaos` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Break a lab on purpose, and always put it back",
		Long: `Inject faults into a lab: kill pods, scale workloads down, roll out a broken
image, corrupt configuration, drain nodes. Every fault is written to a journal before
the cluster is touched and reverted when its time is up (or at once on Ctrl-C); a
fault left by a crashed lab process is listed by "lab chaos status" and undone by
"lab chaos revert --all".

Chaos acts only on labs lab created, or on a cluster adopted with explicit consent
(lab up --provider existing --allow-chaos), and never on kube-system or the lab's
stack namespaces unless --include-system is given.`,
		Example: `  lab chaos list
  lab chaos run pod-kill -n shop -l app=cart --count 2 --duration 1m
  lab chaos status
  lab chaos revert --all
  lab chaos gameday drills/cart.yaml -o markdown`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewListCmd(f),
		NewRunCmd(f),
		NewStatusCmd(f),
		NewRevertCmd(f),
		NewGamedayCmd(f),
	)
	return cmd
}

// resolveLab finds the lab a chaos command acts on: --name, else the lab whose context
// --context names, else the default lab. A --kubeconfig or --context pointing at
// another cluster is refused, since chaos acts on labs only.
func resolveLab(ctx context.Context, f *cmdutil.Factory, name string) (*chaos.Lab, error) {
	m := f.Manager(event.Discard)
	g := f.Globals
	if name == "" {
		name = labOfContext(ctx, m, g.Context)
	}
	r, err := m.Resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	l := cmdutil.ChaosLab(r)
	if g.Kubeconfig != "" || g.Context != "" {
		if err := chaos.CheckSameCluster(l, g.Kubeconfig, g.Context); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// labOfContext is the lab whose kubeconfig context is contextName, else the default.
func labOfContext(ctx context.Context, m *lab.Manager, contextName string) string {
	if contextName != "" {
		if labs, err := m.List(ctx); err == nil {
			for _, st := range labs {
				if st.Context == contextName {
					return st.Name
				}
			}
		}
	}
	return cmdutil.DefaultLabName(ctx, m)
}

// newEngine is the chaos engine with progress going to sink.
func newEngine(f *cmdutil.Factory, sink event.Sink) *chaos.Engine {
	return &chaos.Engine{Events: event.NewEmitter(sink), Confirm: f.Confirm}
}
