package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
)

// Labels lab puts on its Helm releases (on the Secrets that store them).
const (
	// LabelLab names the lab a release belongs to.
	LabelLab = kube.LabLabel
	// LabelStack names the stack a release belongs to.
	LabelStack = "lab.cloudnativelab.io/stack"
	// LabelValuesDigest holds the first 32 hex digits of the values digest: label
	// values are limited to 63 characters, and 128 bits tell changes apart.
	LabelValuesDigest = "lab.cloudnativelab.io/values-digest"
)

// historyMax bounds how many revisions Helm keeps per release.
const historyMax = 5

// valuesDigest is the sha256 of the canonical JSON of the values a chart is rendered
// with: its defaults merged with the profile's values. encoding/json writes map keys
// sorted, so equal values always give the same digest; a changed default in the chart
// changes it too.
func valuesDigest(ch *chart.Chart, vals map[string]any) (string, error) {
	merged, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		return "", fmt.Errorf("merging the values of chart %s: %w", ch.Name(), err)
	}
	data, err := json.Marshal(merged.AsMap())
	if err != nil {
		return "", fmt.Errorf("encoding the values of chart %s: %w", ch.Name(), err)
	}
	return sha256Hex(data), nil
}

func labelDigest(d string) string { return d[:min(32, len(d))] }

// lastRelease is the release's newest revision, or nil when there is none.
func lastRelease(cfg *action.Configuration, name string) (*release.Release, error) {
	rel, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading release %s: %w", name, err)
	}
	return rel, nil
}

// isUnchanged is true when the deployed revision has the wanted chart version and
// values: then there is nothing to upgrade.
func isUnchanged(last *release.Release, pc preparedChart) bool {
	return last != nil && last.Info != nil && last.Info.Status == release.StatusDeployed &&
		last.Chart != nil && last.Chart.Metadata != nil &&
		last.Chart.Metadata.Version == pc.chart.chart.Metadata.Version &&
		last.Labels[LabelValuesDigest] == labelDigest(pc.valuesDigest)
}

func newRelease(s Stack, pc preparedChart, revision int, action string) Release {
	return Release{
		Stack: s.Name, Name: pc.release, Namespace: s.Namespace,
		Chart: pc.ref.Name, Version: pc.chart.chart.Metadata.Version, ChartDigest: pc.chart.digest,
		ValuesDigest: pc.valuesDigest, Revision: revision, Action: action,
	}
}

// apply brings the release to the wanted chart and values. A release stuck in a
// pending state (a lab killed in the middle of Helm's work) is cleared first: lab holds
// the lab's lock, so no other operation can be running on it.
func (in *Installer) apply(ctx context.Context, cfg *action.Configuration, last *release.Release, s Stack, pc preparedChart) (Release, error) {
	if last != nil && last.Info != nil && last.Info.Status.IsPending() {
		var err error
		if last, err = in.clearPending(cfg, last); err != nil {
			return Release{}, err
		}
	}
	labels := map[string]string{LabelLab: in.opts.Lab, LabelStack: s.Name, LabelValuesDigest: labelDigest(pc.valuesDigest)}
	// Helm may change the map it is given (dependency conditions); it gets a copy.
	vals, err := copyValues(pc.values)
	if err != nil {
		return Release{}, err
	}
	if last == nil {
		inst := action.NewInstall(cfg)
		inst.ReleaseName, inst.Namespace, inst.Labels = pc.release, s.Namespace, labels
		rel, err := inst.RunWithContext(ctx, pc.chart.chart, vals)
		if err != nil {
			return Release{}, helmError("installing", pc.release, err)
		}
		return newRelease(s, pc, rel.Version, Installed), nil
	}
	up := action.NewUpgrade(cfg)
	up.Namespace, up.Labels, up.MaxHistory = s.Namespace, labels, historyMax
	// Exactly the catalog's values: Helm would otherwise reuse the old ones when the
	// new ones are empty.
	up.ResetValues = true
	rel, err := up.RunWithContext(ctx, pc.release, pc.chart.chart, vals)
	if err != nil {
		return Release{}, helmError("upgrading", pc.release, err)
	}
	return newRelease(s, pc, rel.Version, Upgraded), nil
}

// clearPending unsticks a release left pending. A first install that never finished is
// uninstalled (its objects deleted) so it is installed afresh; a pending upgrade or
// rollback is marked failed, which Helm's upgrade accepts. It returns the release to
// build on, nil when there is none left.
func (in *Installer) clearPending(cfg *action.Configuration, last *release.Release) (*release.Release, error) {
	in.opts.Events.Warn(fmt.Sprintf("release %s was left %s by an interrupted run; clearing it", last.Name, last.Info.Status))
	if last.Info.Status == release.StatusPendingInstall && last.Version == 1 {
		un := action.NewUninstall(cfg)
		un.DisableHooks = true
		if _, err := un.Run(last.Name); err != nil {
			return nil, helmError("clearing", last.Name, err)
		}
		return nil, nil
	}
	last.SetStatus(release.StatusFailed, "lab: cleared a pending operation that never finished")
	if err := cfg.Releases.Update(last); err != nil {
		return nil, helmError("clearing", last.Name, err)
	}
	return last, nil
}

func helmError(verb, name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("%s release %s", verb, name),
		"run `lab up` again; if it fails the same way, `lab stacks remove` the stack and add it again")
}

func copyValues(v map[string]any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(data, &out)
}

// ensureNamespace creates the stack's namespace, labelled as lab's so that `lab down`
// on an adopted cluster removes it. A namespace that already exists is left as it is
// (on an adopted cluster it may be the user's); one still being deleted (a stack removed
// a moment ago) is waited for first.
func (in *Installer) ensureNamespace(ctx context.Context, name string, chaosTarget bool) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	kube.LabelNamespace(ns, in.opts.Lab)
	if chaosTarget {
		ns.Labels[kube.ChaosTargetLabel] = "true"
	}
	if err := kube.EnsureNamespace(ctx, in.c.Typed, ns, in.opts.PollInterval); err != nil {
		return errs.Wrap(errs.Unavailable, err, "creating namespace "+name, "if it is stuck deleting, see `kubectl get namespace "+name+" -o yaml`")
	}
	return nil
}
