package stack

import (
	"context"
	"strings"
)

// Status is one catalog stack as `lab stacks list` shows it.
type Status struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Namespace   string   `json:"namespace"`
	DependsOn   []string `json:"dependsOn,omitempty"`
	Installed   bool     `json:"installed"`
	// Chart and Version are the installed ones, else what would be installed.
	Chart    string `json:"chart"`
	Version  string `json:"version,omitempty"`
	Revision int    `json:"revision,omitempty"`
	// Release is Helm's status of the release (deployed, failed, pending-install...).
	Release string `json:"release,omitempty"`
	// Ready is true when every workload is ready; NotReady says which are not.
	Ready    bool     `json:"ready"`
	NotReady []string `json:"notReady,omitempty"`
}

// Catalog lists the catalog without a cluster: nothing installed.
func (c *Catalog) Catalog() []Status {
	out := make([]Status, 0, len(c.Stacks))
	for _, name := range c.Names() {
		s, _ := c.Get(name)
		out = append(out, Status{Name: s.Name, Description: s.Description, Namespace: s.Namespace, DependsOn: s.DependsOn,
			Chart: chartNames(s), Version: c.versions(s)})
	}
	return out
}

// versions are the chart versions a stack would install: pinned for upstream charts,
// read from the binary for bundled ones.
func (c *Catalog) versions(s Stack) string {
	var v []string
	for _, ch := range s.Charts {
		switch {
		case ch.Version != "":
			v = append(v, ch.Version)
		case ch.Bundled() && c.Bundled != nil:
			if loaded, err := c.Bundled(ch.Name); err == nil {
				v = append(v, loaded.Metadata.Version)
			}
		}
	}
	return strings.Join(v, ", ")
}

// List reports every stack of the catalog and, for those installed on the cluster,
// their release and whether they are ready.
func (in *Installer) List(ctx context.Context) ([]Status, error) {
	out := in.catalog.Catalog()
	for i := range out {
		s, _ := in.catalog.Get(out[i].Name)
		if err := in.fillStatus(ctx, s, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (in *Installer) fillStatus(ctx context.Context, s Stack, st *Status) error {
	cfg, err := in.c.helmConfig(s.Namespace)
	if err != nil {
		return err
	}
	var versions, statuses []string
	var names []string
	for _, c := range s.Charts {
		rel, err := lastRelease(cfg, c.releaseName(s))
		if err != nil {
			return err
		}
		if rel == nil {
			continue
		}
		st.Installed = true
		st.Revision = max(st.Revision, rel.Version)
		versions = append(versions, rel.Chart.Metadata.Version)
		statuses = append(statuses, rel.Info.Status.String())
		names = append(names, rel.Name)
	}
	if !st.Installed {
		return nil
	}
	st.Version, st.Release = strings.Join(versions, ", "), strings.Join(dedupe(statuses), ", ")
	objs, err := in.releaseObjects(s, names)
	if err != nil {
		return err
	}
	st.NotReady, err = in.notReady(ctx, objs)
	st.Ready = err == nil && len(st.NotReady) == 0
	return err
}

func chartNames(s Stack) string {
	names := make([]string, len(s.Charts))
	for i, c := range s.Charts {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
