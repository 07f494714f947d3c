package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// catalog is the stack catalog; a Manager without one can install no stack.
func (m *Manager) catalog() *stack.Catalog {
	if m.Catalog == nil {
		return &stack.Catalog{}
	}
	return m.Catalog
}

// catalogFor is the catalog with the lab's own values (spec.values) merged over the
// profiles: every render, pull and install of the lab's stacks goes through it.
func (m *Manager) catalogFor(lab spec.Lab) *stack.Catalog {
	return m.catalog().WithValues(lab.Spec.Values)
}

func (m *Manager) source(offline bool) stack.Source {
	return stack.Source{CacheDir: m.CacheDir, Offline: offline}
}

// sourceOf is where a lab's upstream charts come from: its bundle (which is laid out
// as a chart cache) when it was brought up from one, else lab's cache.
func (m *Manager) sourceOf(bundleDir string, offline bool) stack.Source {
	if bundleDir != "" {
		return stack.Source{CacheDir: bundleDir, Offline: true}
	}
	return m.source(offline)
}

// validateStacks checks, before anything changes, that the lab names only stacks of
// the catalog and a known profile.
func (m *Manager) validateStacks(lab *spec.Lab, source string) error {
	where := "spec.stacks"
	if source != "" {
		where = strings.TrimPrefix(source, "embedded:") + ": spec.stacks"
	}
	return m.catalog().Validate(lab.Spec.Stacks, lab.Spec.Profile, where)
}

func profileOf(lab spec.Lab) string {
	if lab.Spec.Profile == "" {
		return spec.ProfileLite
	}
	return lab.Spec.Profile
}

// footprint renders the lab's stacks without a cluster and reports what they request;
// nil when the lab has no stacks.
func (m *Manager) footprint(lab spec.Lab, src stack.Source) (*stack.Footprint, error) {
	if len(lab.Spec.Stacks) == 0 {
		return nil, nil
	}
	return m.catalogFor(lab).Footprint(lab.Spec.Stacks, profileOf(lab), lab.Spec.Cluster.NodeCount(), src)
}

// Footprint is `lab footprint`: what a lab's stacks request and are limited to, for a
// profile (the lab's own when empty).
func (m *Manager) Footprint(lab *spec.Lab, profile string, offline bool) (*stack.Footprint, error) {
	l := *lab
	if profile != "" {
		l.Spec.Profile = profile
	}
	if err := m.validateStacks(&l, ""); err != nil {
		return nil, err
	}
	fp, err := m.footprint(l, m.source(offline))
	if fp == nil && err == nil {
		fp = &stack.Footprint{Profile: profileOf(l), Nodes: l.Spec.Cluster.NodeCount(), Total: stack.StackFootprint{Stack: "total"}}
	}
	return fp, err
}

// Pull is `lab pull`: caches every upstream chart the lab needs and lists its images.
func (m *Manager) Pull(lab *spec.Lab, profile string) (*stack.PullResult, error) {
	l := *lab
	if profile != "" {
		l.Spec.Profile = profile
	}
	if err := m.validateStacks(&l, ""); err != nil {
		return nil, err
	}
	return m.catalogFor(l).Pull(l.Spec.Stacks, profileOf(l), m.source(false))
}

// installer connects the stack installer to a lab's cluster.
func (m *Manager) installer(ctx context.Context, rec *Record, offline bool) (*stack.Installer, error) {
	kubeconfig, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "lab "+quote(rec.Name)+" has no kubeconfig yet", "run `lab up` to finish creating it")
	}
	return stack.NewInstaller(m.catalogFor(rec.Spec), stack.Options{
		Kubeconfig: kubeconfig, Lab: rec.Name, Profile: profileOf(rec.Spec), Simulated: m.simulated(ctx, rec),
		Source: m.sourceOf(rec.Bundle, offline), Timeout: m.StackTimeout, Events: m.Events,
	})
}

// installStacks installs the lab's stacks and records what is installed. The record
// is saved even when a stack fails, so that what did install is known to `lab down`.
func (m *Manager) installStacks(ctx context.Context, rec *Record, names []string, offline bool) ([]stack.Release, error) {
	if len(names) == 0 {
		return nil, nil
	}
	in, err := m.installer(ctx, rec, offline)
	if err != nil {
		return nil, err
	}
	rels, installErr := in.Install(ctx, names)
	rec.Stacks = mergeReleases(rec.Stacks, rels)
	if err := m.store().save(rec); err != nil {
		return rels, err
	}
	return rels, installErr
}

// mergeReleases replaces the recorded releases that were installed again and keeps the
// others, in the order they were first installed.
func mergeReleases(recorded, now []stack.Release) []stack.Release {
	out := slices.Clone(recorded)
	for _, r := range now {
		i := slices.IndexFunc(out, func(o stack.Release) bool { return o.Stack == r.Stack && o.Name == r.Name })
		if i >= 0 {
			out[i] = r
		} else {
			out = append(out, r)
		}
	}
	return out
}

// allUnchanged is true when a run changed no release.
func allUnchanged(rels []stack.Release) bool {
	for _, r := range rels {
		if r.Action != stack.Unchanged {
			return false
		}
	}
	return true
}

// installedStackNames lists the stacks of a record's releases, each once.
func installedStackNames(rels []stack.Release) []string {
	var out []string
	for _, r := range rels {
		if !slices.Contains(out, r.Stack) {
			out = append(out, r.Stack)
		}
	}
	return out
}

// StackOptions are the options of `lab stacks add`.
type StackOptions struct {
	Offline bool
}

// AddStacks is `lab stacks add`: installs stacks (and what they depend on) on a lab
// that is up, with the lab's profile.
func (m *Manager) AddStacks(ctx context.Context, name string, stacks []string, opts StackOptions) ([]stack.Release, error) {
	if err := m.catalog().Validate(stacks, "", "stacks"); err != nil {
		return nil, err
	}
	rec, lock, err := m.readyLab(ctx, name)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	rels, err := m.installStacks(ctx, rec, stacks, opts.Offline)
	return rels, stepError(ctx, err)
}

// RemoveStacks is `lab stacks remove`: uninstalls stacks from a lab and forgets them.
func (m *Manager) RemoveStacks(ctx context.Context, name string, stacks []string) error {
	if err := m.catalog().Validate(stacks, "", "stacks"); err != nil {
		return err
	}
	rec, lock, err := m.readyLab(ctx, name)
	if err != nil {
		return err
	}
	defer lock.Release()
	in, err := m.installer(ctx, rec, false)
	if err != nil {
		return err
	}
	removeErr := in.Remove(ctx, stacks)
	if removeErr == nil {
		rec.Stacks = slices.DeleteFunc(rec.Stacks, func(r stack.Release) bool { return slices.Contains(stacks, r.Stack) })
	}
	if err := m.store().save(rec); err != nil {
		return err
	}
	if removeErr != nil && ctx.Err() != nil {
		return interrupted("run the command again to finish", ctx.Err())
	}
	return removeErr
}

// ListStacks is `lab stacks list`: the catalog, and what is installed on the lab when
// it exists and answers.
func (m *Manager) ListStacks(ctx context.Context, name string) ([]stack.Status, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	rec, err := m.store().load(name)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Phase != Ready {
		return m.catalog().Catalog(), nil
	}
	in, err := m.installer(ctx, rec, false)
	if err != nil {
		return nil, err
	}
	list, err := in.List(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("reading the stacks of lab %q", name), "check that the lab is up: `lab status`")
	}
	return list, nil
}

// readyLab locks a lab that exists and is Ready.
func (m *Manager) readyLab(ctx context.Context, name string) (*Record, interface{ Release() error }, error) {
	if err := ValidateName(name); err != nil {
		return nil, nil, err
	}
	lock, err := m.lock(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	rec, err := m.store().load(name)
	if err == nil && rec == nil {
		err = m.noLab(name)
	}
	if err == nil && rec.Phase != Ready {
		err = errs.Invalidf("run `lab up` to finish it first", "lab %q is %s, not Ready", name, rec.Phase)
	}
	if err != nil {
		lock.Release()
		return nil, nil, err
	}
	return rec, lock, nil
}

// removeStacksOf uninstalls, from an adopted cluster, the releases lab installed: the
// provider then deletes the namespaces lab created. On clusters lab created, deleting
// the cluster is enough.
func (m *Manager) removeStacksOf(ctx context.Context, rec *Record) error {
	var names []string
	for _, n := range append(installedStackNames(rec.Stacks), rec.Spec.Spec.Stacks...) {
		if _, ok := m.catalog().Get(n); ok && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	in, err := m.installer(ctx, rec, false)
	if err != nil {
		return err
	}
	return in.Remove(ctx, names)
}
