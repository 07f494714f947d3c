// Package chaos is `lab chaos`: list, run, status, revert and gameday. Each subcommand
// turns flags into options, resolves the lab, makes one engine call and renders.
package chaos

import (
	"context"
	"fmt"
	"os"
	"time"

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

// RevertBeforeDown undoes every fault still active on a lab; `lab down` runs it first,
// so no fault outlives the lab that journals it and a `lab chaos run` holding one
// sees it reverted and ends before the cluster goes. On an adopted cluster a revert
// that fails stops the down (the fault would stay on a cluster that outlives the lab);
// on a cluster lab created it is a warning, since the cluster goes away whole.
//
// The journal is read first, so a lab without faults costs no look at its cluster; and
// the lab is not resolved as `lab chaos` does it, since --kubeconfig on `lab down` names
// the file to remove the lab's context from, not a cluster to check.
func RevertBeforeDown(ctx context.Context, f *cmdutil.Factory, name string, ev *event.Emitter) error {
	m := f.Manager(event.Discard)
	eng := &chaos.Engine{Events: ev}
	open, err := eng.Status(&chaos.Lab{Name: name, JournalDir: cmdutil.JournalDir(m.Dir(name))})
	if err != nil || len(open) == 0 {
		return err
	}
	r, err := m.Resolve(ctx, name)
	if err != nil {
		return err
	}
	l := cmdutil.ChaosLab(r)
	_, err = eng.Revert(ctx, l, nil, true)
	if err != nil && !l.Adopted {
		ev.Warn(fmt.Sprintf("chaos faults of lab %q could not be reverted (%v); deleting the cluster removes them", name, err))
		err = nil
	}
	waitHolders(ctx, open)
	return err
}

// waitHolders gives the lab processes that held the faults just reverted a moment to
// notice it (they look every second) and end, so none is left acting on a lab being
// deleted; one that does not end in time finds the lab gone and ends then.
func waitHolders(ctx context.Context, held []chaos.EntryStatus) {
	deadline := time.Now().Add(5 * time.Second)
	for _, s := range held {
		for s.Held && s.Process.PID != os.Getpid() && s.Process.Alive() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// newEngine is the chaos engine with progress going to sink.
func newEngine(f *cmdutil.Factory, sink event.Sink) *chaos.Engine {
	return &chaos.Engine{Events: event.NewEmitter(sink), Confirm: f.Confirm}
}
