package stack

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

// Helm verbs of ChartAction.
const (
	ChartInstall   = "install"
	ChartUpgrade   = "upgrade"
	ChartRollback  = "rollback"
	ChartUninstall = "uninstall"
)

// ChartAction is one Helm operation on a release that is not a stack's: scenarios
// install, upgrade and roll back releases of their own charts with it, so that their
// solutions need no helm binary and leave exactly the state `helm` would.
type ChartAction struct {
	Verb      string
	Release   string
	Namespace string
	// Chart is the folder Dir of Files (install, upgrade), or Bundled names one of lab's
	// bundled charts.
	Files   fs.FS
	Dir     string
	Bundled string
	Values  map[string]any
	// Revision is where a rollback goes; 0 means the previous revision.
	Revision int
}

// RunChartAction runs a Helm operation with the Helm SDK against the cluster of
// kubeconfig, as the helm CLI would (release records as Secrets in the namespace). It
// returns the release's revision afterwards (0 after an uninstall).
func RunChartAction(ctx context.Context, kubeconfig []byte, a ChartAction) (int, error) {
	c, err := newClients(kubeconfig)
	if err != nil {
		return 0, err
	}
	cfg, err := c.helmConfig(a.Namespace)
	if err != nil {
		return 0, err
	}
	switch a.Verb {
	case ChartInstall, ChartUpgrade:
		return installOrUpgrade(ctx, cfg, a)
	case ChartRollback:
		rb := action.NewRollback(cfg)
		rb.Version, rb.MaxHistory = a.Revision, historyMax
		if err := rb.Run(a.Release); err != nil {
			return 0, helmActionError("rolling back", a.Release, err)
		}
		last, err := lastRelease(cfg, a.Release)
		if err != nil || last == nil {
			return 0, err
		}
		return last.Version, nil
	case ChartUninstall:
		un := action.NewUninstall(cfg)
		un.IgnoreNotFound = true
		if _, err := un.Run(a.Release); err != nil {
			return 0, helmActionError("uninstalling", a.Release, err)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unknown helm action %q", a.Verb)
}

func installOrUpgrade(ctx context.Context, cfg *action.Configuration, a ChartAction) (int, error) {
	ch, err := chartOf(a)
	if err != nil {
		return 0, err
	}
	vals, err := copyValues(a.Values)
	if err != nil {
		return 0, err
	}
	last, err := lastRelease(cfg, a.Release)
	if err != nil {
		return 0, err
	}
	if a.Verb == ChartInstall && last == nil {
		inst := action.NewInstall(cfg)
		inst.ReleaseName, inst.Namespace = a.Release, a.Namespace
		rel, err := inst.RunWithContext(ctx, ch, vals)
		if err != nil {
			return 0, helmActionError("installing", a.Release, err)
		}
		return rel.Version, nil
	}
	if a.Verb == ChartInstall {
		return 0, fmt.Errorf("installing release %s: it exists already (revision %d); upgrade it instead", a.Release, last.Version)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace, up.MaxHistory = a.Namespace, historyMax
	// As `helm upgrade` without --reuse-values: exactly the values given.
	up.ResetValues = true
	rel, err := up.RunWithContext(ctx, a.Release, ch, vals)
	if err != nil {
		return 0, helmActionError("upgrading", a.Release, err)
	}
	return rel.Version, nil
}

func chartOf(a ChartAction) (*chart.Chart, error) {
	if a.Bundled != "" {
		return BundledChart(a.Bundled)
	}
	return LoadChartFS(a.Files, a.Dir)
}

func helmActionError(verb, release string, err error) error {
	return fmt.Errorf("%s release %s: %w", verb, release, err)
}

// LoadChartFS loads the chart in folder dir of fsys as `helm install ./dir` reads a
// chart folder: .helmignore and Helm's default ignore rules apply.
func LoadChartFS(fsys fs.FS, dir string) (*chart.Chart, error) {
	rules := ignore.Empty()
	if data, err := fs.ReadFile(fsys, dir+"/"+ignore.HelmIgnore); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", ignore.HelmIgnore, err)
		}
	}
	rules.AddDefaults()
	var files []*loader.BufferedFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(rel, info) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: rel, Data: bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loader.LoadFiles(files)
}
