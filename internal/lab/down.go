package lab

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
)

// DownOptions say which lab to delete and how hard to try.
type DownOptions struct {
	Name string
	// Force forgets the lab even when its cluster cannot be deleted (its provider does
	// not answer): what may be left behind is reported, with how to remove it.
	Force bool
}

// DownResult is what `lab down` did.
type DownResult struct {
	Name string `json:"name"`
	// Existed is false when there was no such lab (not an error: down is idempotent).
	Existed  bool   `json:"existed"`
	Provider string `json:"provider,omitempty"`
	// LeftBehind says what of the lab's cluster may still exist, and how to remove it,
	// when the lab was forgotten without its cluster being deleted.
	LeftBehind string `json:"leftBehind,omitempty"`
}

// Down removes the lab: its cluster (or, on an adopted cluster, what lab installed),
// its kubeconfig context and every file lab kept for it.
func (m *Manager) Down(ctx context.Context, name string) (*DownResult, error) {
	return m.DownWith(ctx, DownOptions{Name: name})
}

// DownWith is Down with options.
func (m *Manager) DownWith(ctx context.Context, opts DownOptions) (*DownResult, error) {
	name := opts.Name
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	lock, err := m.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	rec, err := m.store().load(name)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return &DownResult{Name: name}, nil
	}
	left, err := m.down(ctx, rec, opts.Force)
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted("run `lab down` again to finish", ctx.Err())
		}
		return nil, err
	}
	return &DownResult{Name: name, Existed: true, Provider: rec.Provider, LeftBehind: left}, nil
}

// down runs the deletion steps; the record says Deleting until the last one is done, so
// an interrupted down is finished by the next. A cluster that cannot be deleted stops
// it, unless lab knows the cluster was never made (rec.NoCluster) or force is set: the
// lab is then forgotten, and left says what may remain.
func (m *Manager) down(ctx context.Context, rec *Record, force bool) (left string, err error) {
	p, err := m.provider(rec.Provider)
	if err != nil {
		return "", err
	}
	rec.Phase = Deleting
	if err := m.store().save(rec); err != nil {
		return "", err
	}
	req := m.request(rec.Name, rec.Spec.Spec.Cluster)
	err = m.deleteCluster(ctx, p, req, rec)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return "", err
	case rec.NoCluster:
		m.Events.Warn(fmt.Sprintf("lab %q never got a cluster (its creation failed and %s removed what it made), so there is nothing to delete: forgetting it", rec.Name, p.Name()))
	case force:
		var keepErr error
		if left, keepErr = m.keep(p, req); keepErr != nil {
			return "", keepErr
		}
		m.Events.Warn(fmt.Sprintf("forgetting lab %q without deleting its cluster (%s). Left behind: %s", rec.Name, firstLineOf(err), left))
	default:
		return "", &errs.Error{Kind: errs.KindOf(err), Msg: fmt.Sprintf("cannot delete the cluster of lab %q", rec.Name), Err: err,
			Hint: fmt.Sprintf("fix what the error says (for kind: start Docker) and run `lab down --name %s` again; "+
				"`lab down --name %s --force` forgets the lab now, leaving behind %s", rec.Name, rec.Name, leftBehind(p, req))}
	}
	if rec.UserKubeconfig != "" {
		err := m.Events.Step(ctx, "Removing kubeconfig context "+rec.Context, func(ctx context.Context) error {
			return kube.RemoveContext(ctx, rec.UserKubeconfig, rec.Context)
		})
		if err != nil {
			return "", err
		}
	}
	return left, m.store().remove(rec.Name)
}

// deleteCluster deletes the lab's cluster, or on an adopted one what lab put there:
// its chaos faults (BeforeDown), its Helm releases and its namespaces.
func (m *Manager) deleteCluster(ctx context.Context, p cluster.Provider, req cluster.Request, rec *Record) error {
	title := fmt.Sprintf("Deleting cluster (%s)", p.Name())
	if m.BeforeDown != nil {
		if err := m.BeforeDown(ctx, m, rec.Name, m.Events); err != nil {
			return err
		}
	}
	if p.Info().Adopted {
		title = "Removing what lab installed on " + rec.Context
		// Helm's releases first, through Helm, so that cluster-scoped objects of the
		// charts go too; then the provider deletes the namespaces lab created.
		if _, err := os.Stat(rec.Kubeconfig); err == nil {
			if err := m.removeStacksOf(ctx, rec); err != nil {
				return err
			}
		}
	}
	return m.Events.Step(ctx, title, func(ctx context.Context) error { return p.Delete(ctx, req) })
}

// keep lets a provider whose work directory tracks the cluster (a Keeper) move it out
// of the lab's directory, which forgetting removes; others say what is left behind.
func (m *Manager) keep(p cluster.Provider, req cluster.Request) (string, error) {
	k, ok := p.(cluster.Keeper)
	if !ok {
		return leftBehind(p, req), nil
	}
	dir := m.store().keptDir(req.Name, time.Now())
	left, err := k.Keep(req, dir)
	if err != nil {
		return "", fmt.Errorf("keeping what tracks the cluster of lab %q in %s: %w", req.Name, dir, err)
	}
	return left, nil
}

// leftBehind says what a provider leaves when lab forgets a lab without deleting its
// cluster, and how to remove it by hand.
func leftBehind(p cluster.Provider, req cluster.Request) string {
	if d, ok := p.(cluster.LeftBehind); ok {
		return d.LeftBehind(req)
	}
	return "the cluster of provider " + p.Name()
}

func firstLineOf(err error) string {
	s := err.Error()
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
