package stack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/release"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

// Options configure an Installer for one lab's cluster.
type Options struct {
	// Kubeconfig is the lab's admin kubeconfig.
	Kubeconfig []byte
	// Lab names the lab: its namespaces and releases are labelled with it, so that
	// `lab down` on an adopted cluster finds them.
	Lab string
	// Profile is lite or full (lite when empty).
	Profile string
	// Simulated is true on a sim cluster, where no container runs: outcome gates that
	// need a working workload are skipped, with an event saying so.
	Simulated bool
	Source    Source
	// Timeout overrides every stack's readiness timeout when positive.
	Timeout time.Duration
	// PollInterval is how often readiness is checked (250ms when zero).
	PollInterval time.Duration
	Events       *event.Emitter
}

// Installer installs, lists and removes the stacks of one cluster.
type Installer struct {
	catalog *Catalog
	opts    Options
	c       *clients
}

// NewInstaller connects to the lab's cluster. Nothing is contacted until a method runs.
func NewInstaller(catalog *Catalog, opts Options) (*Installer, error) {
	c, err := newClients(opts.Kubeconfig)
	if err != nil {
		return nil, err
	}
	if opts.Profile == "" {
		opts.Profile = ProfileLite
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	return &Installer{catalog: catalog, opts: opts, c: c}, nil
}

// Release is one Helm release lab installed, as the lab's record keeps it.
type Release struct {
	Stack     string `json:"stack"`
	Name      string `json:"release"`
	Namespace string `json:"namespace"`
	Chart     string `json:"chart"`
	Version   string `json:"version"`
	// ChartDigest is the sha256 of an upstream chart's archive.
	ChartDigest string `json:"chartDigest,omitempty"`
	// ValuesDigest is the sha256 of the canonical JSON of the merged values.
	ValuesDigest string `json:"valuesDigest"`
	Revision     int    `json:"revision"`
	// Action is what this run did: installed, upgraded or unchanged.
	Action string `json:"action"`
}

// What a run did to a release.
const (
	Installed = "installed"
	Upgraded  = "upgraded"
	Unchanged = "unchanged"
)

// prepared is a stack with its charts loaded and values computed, before anything
// changes on the cluster.
type prepared struct {
	stack  Stack
	charts []preparedChart
}

type preparedChart struct {
	ref          Chart
	release      string
	chart        *loaded
	values       map[string]any
	valuesDigest string
}

// Install installs or upgrades the named stacks and the stacks they depend on, and
// waits until each is ready. Stacks that do not depend on each other are installed at
// the same time. Every chart is loaded first, so an offline run that lacks charts fails
// before anything changes, naming all of them.
func (in *Installer) Install(ctx context.Context, names []string) ([]Release, error) {
	stacks, err := in.catalog.Resolve(names)
	if err != nil {
		return nil, err
	}
	plan, err := in.catalog.prepare(stacks, in.opts.Profile, in.opts.Source)
	if err != nil {
		return nil, err
	}
	return in.runGraph(ctx, plan)
}

// prepare loads every chart of the stacks and computes their values.
func (cat *Catalog) prepare(stacks []Stack, profile string, src Source) ([]prepared, error) {
	var missing []*errMissing
	out := make([]prepared, 0, len(stacks))
	for _, s := range stacks {
		p := prepared{stack: s}
		for _, c := range s.Charts {
			l, err := cat.load(c, src)
			if m, ok := asMissing(err); ok {
				missing = append(missing, m)
				continue
			}
			if err != nil {
				return nil, err
			}
			vals, err := cat.valuesOf(s, c, l.chart, profile)
			if err != nil {
				return nil, err
			}
			digest, err := valuesDigest(l.chart, vals)
			if err != nil {
				return nil, err
			}
			p.charts = append(p.charts, preparedChart{ref: c, release: c.releaseName(s), chart: l, values: vals, valuesDigest: digest})
		}
		out = append(out, p)
	}
	if len(missing) > 0 {
		return nil, missingError(missing)
	}
	return out, nil
}

// runGraph runs each stack in its own goroutine once the stacks it depends on are
// done. A stack whose dependency failed is not installed.
func (in *Installer) runGraph(ctx context.Context, plan []prepared) ([]Release, error) {
	done := map[string]chan struct{}{}
	for _, p := range plan {
		done[p.stack.Name] = make(chan struct{})
	}
	var (
		mu       sync.Mutex
		failed   = map[string]error{}
		releases = map[string][]Release{}
		wg       sync.WaitGroup
	)
	for _, p := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[p.stack.Name])
			for _, d := range p.stack.DependsOn {
				<-done[d]
			}
			for _, a := range p.stack.After {
				if ch, ok := done[a]; ok {
					<-ch
				}
			}
			mu.Lock()
			blocked := blockedBy(p.stack, failed)
			mu.Unlock()
			var rels []Release
			err := blocked
			if err == nil {
				rels, err = in.installStack(ctx, p)
			}
			mu.Lock()
			defer mu.Unlock()
			releases[p.stack.Name] = rels
			if err != nil {
				failed[p.stack.Name] = err
			}
		}()
	}
	wg.Wait()
	var out []Release
	var errList []error
	for _, p := range plan {
		out = append(out, releases[p.stack.Name]...)
		if err := failed[p.stack.Name]; err != nil {
			errList = append(errList, err)
		}
	}
	return out, joinStackErrors(errList)
}

func blockedBy(s Stack, failed map[string]error) error {
	for _, d := range s.DependsOn {
		if _, ok := failed[d]; ok {
			return &errs.Error{Kind: errs.Unavailable, Msg: fmt.Sprintf("stack %s was not installed: it depends on %s, which failed", s.Name, d)}
		}
	}
	return nil
}

// joinStackErrors keeps the first failure's kind and hint and lists every failure.
func joinStackErrors(list []error) error {
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	msgs := make([]string, len(list))
	for i, err := range list {
		msgs[i] = err.Error()
	}
	return &errs.Error{Kind: errs.KindOf(list[0]), Msg: strings.Join(msgs, "\n"), Hint: errs.HintOf(list[0])}
}

// installStack reconciles each chart of the stack, then waits for the stack to work.
func (in *Installer) installStack(ctx context.Context, p prepared) ([]Release, error) {
	if err := in.ensureNamespace(ctx, p.stack.Namespace, p.stack.ChaosTarget); err != nil {
		return nil, err
	}
	var rels []Release
	for _, pc := range p.charts {
		rel, err := in.reconcileStep(ctx, p.stack, pc)
		if err != nil {
			return rels, err
		}
		rels = append(rels, rel)
	}
	err := in.opts.Events.Step(ctx, fmt.Sprintf("Waiting for %s to be ready", p.stack.Name), func(ctx context.Context) error {
		return in.waitReady(ctx, p.stack, releaseNames(p.charts))
	})
	if err != nil {
		return rels, err
	}
	return rels, in.checkOutcome(ctx, p.stack)
}

// reconcileStep installs or upgrades one release as a progress step, or reports it
// skipped when its chart version and values are those deployed.
func (in *Installer) reconcileStep(ctx context.Context, s Stack, pc preparedChart) (Release, error) {
	title := fmt.Sprintf("Installing %s (%s %s)", s.Name, pc.ref.Name, pc.chart.chart.Metadata.Version)
	if len(s.Charts) > 1 {
		title = fmt.Sprintf("Installing %s: %s (%s %s)", s.Name, pc.release, pc.ref.Name, pc.chart.chart.Metadata.Version)
	}
	cfg, err := in.c.helmConfig(s.Namespace)
	if err != nil {
		return Release{}, err
	}
	last, err := lastRelease(cfg, pc.release)
	if err != nil {
		return Release{}, err
	}
	if err := in.checkOwner(last, s); err != nil {
		return Release{}, err
	}
	if isUnchanged(last, pc) {
		in.opts.Events.Skip(title, fmt.Sprintf("unchanged (revision %d has this chart version and these values)", last.Version))
		return newRelease(s, pc, last.Version, Unchanged), nil
	}
	var rel Release
	err = in.opts.Events.Step(ctx, title, func(ctx context.Context) error {
		var err error
		rel, err = in.apply(ctx, cfg, last, s, pc)
		return err
	})
	return rel, err
}

// checkOwner refuses to touch a release this lab did not install: on an adopted
// cluster, a release of the same name may be the user's own.
func (in *Installer) checkOwner(last *release.Release, s Stack) error {
	if last == nil || last.Labels[LabelLab] == in.opts.Lab {
		return nil
	}
	owner := "not by lab"
	if l := last.Labels[LabelLab]; l != "" {
		owner = "by lab " + l
	}
	return errs.Invalidf("remove that release yourself, or adopt another cluster",
		"namespace %s already has a release %s, installed %s: lab %s leaves it alone", s.Namespace, last.Name, owner, in.opts.Lab)
}

func releaseNames(charts []preparedChart) []string {
	names := make([]string, len(charts))
	for i, c := range charts {
		names[i] = c.release
	}
	return names
}
