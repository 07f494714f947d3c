package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
)

// revertBeforeDown undoes every fault still active on a lab; `lab down` runs it first,
// so no fault outlives the lab that journals it and a `lab chaos run` holding one
// sees it reverted and ends before the cluster goes. On an adopted cluster a revert
// that fails stops the down (the fault would stay on a cluster that outlives the lab);
// on a cluster lab created it is a warning, since the cluster goes away whole.
//
// The journal is read first, so a lab without faults costs no look at its cluster; and
// the lab is not resolved as `lab chaos` does it, since --kubeconfig on `lab down` names
// the file to remove the lab's context from, not a cluster to check.
func revertBeforeDown(ctx context.Context, m *lab.Manager, name string, ev *event.Emitter) error {
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
