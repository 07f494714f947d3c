package lab

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// DownResult is what `lab down` did.
type DownResult struct {
	Name string `json:"name"`
	// Existed is false when there was no such lab (not an error: down is idempotent).
	Existed  bool   `json:"existed"`
	Provider string `json:"provider,omitempty"`
}

// Down removes the lab: its cluster (or, on an adopted cluster, what lab installed),
// its kubeconfig context and every file lab kept for it.
func (m *Manager) Down(ctx context.Context, name string) (*DownResult, error) {
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
	if err := m.down(ctx, rec); err != nil {
		if ctx.Err() != nil {
			return nil, interrupted("run `lab down` again to finish", ctx.Err())
		}
		return nil, err
	}
	return &DownResult{Name: name, Existed: true, Provider: rec.Provider}, nil
}

// down runs the deletion steps; the record says Deleting until the last one is done, so
// an interrupted down is finished by the next.
func (m *Manager) down(ctx context.Context, rec *Record) error {
	p, err := m.provider(rec.Provider)
	if err != nil {
		return err
	}
	rec.Phase = Deleting
	if err := m.store().save(rec); err != nil {
		return err
	}
	req := m.request(rec.Name, rec.Spec.Spec.Cluster)
	title := fmt.Sprintf("Deleting cluster (%s)", p.Name())
	if p.Name() == spec.ProviderExisting {
		title = "Removing what lab installed on " + rec.Context
		if m.BeforeDown != nil {
			if err := m.BeforeDown(ctx, rec.Name); err != nil {
				return err
			}
		}
		// Helm's releases first, through Helm, so that cluster-scoped objects of the
		// charts go too; then the provider deletes the namespaces lab created.
		if _, err := os.Stat(rec.Kubeconfig); err == nil {
			if err := m.removeStacksOf(ctx, rec); err != nil {
				return err
			}
		}
	}
	if err := m.Events.Step(ctx, title, func(ctx context.Context) error { return p.Delete(ctx, req) }); err != nil {
		return err
	}
	if rec.UserKubeconfig != "" {
		err := m.Events.Step(ctx, "Removing kubeconfig context "+rec.Context, func(ctx context.Context) error {
			return kube.RemoveContext(ctx, rec.UserKubeconfig, rec.Context)
		})
		if err != nil {
			return err
		}
	}
	return m.store().remove(rec.Name)
}
