// Package kind is the cluster provider that runs a lab's cluster on kind (Kubernetes
// in Docker). It is the only package that imports sigs.k8s.io/kind.
package kind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

// DefaultReadyTimeout bounds the wait for every node to be Ready after creation.
const DefaultReadyTimeout = 5 * time.Minute

// settleTimeout is how long an existing cluster gets to become healthy by itself (for
// example after Docker restarted) before Create replaces it.
const settleTimeout = time.Minute

// kubeconfigFile is kind's kubeconfig inside the lab's WorkDir.
const kubeconfigFile = "kind-kubeconfig.yaml"

// Provider creates lab clusters with kind. Build it with New.
type Provider struct {
	run           CommandRunner
	dockerTimeout time.Duration
	listen        func(network, address string) (net.Listener, error)
	newBackend    func(*event.Emitter) backend
	probe         apiProbe
	extraMemory   int64
	readyTimeout  time.Duration
	settleWait    time.Duration
	pollEvery     time.Duration
}

var _ cluster.Provider = (*Provider)(nil)

// Option configures a Provider.
type Option func(*Provider)

// WithCommandRunner runs docker through r (tests play Docker's answers with it).
func WithCommandRunner(r CommandRunner) Option { return func(p *Provider) { p.run = r } }

// WithExtraMemory adds bytes to the memory the preflight requires on top of the nodes'
// own (NodeMemory): the footprint of the stacks the lab installs.
func WithExtraMemory(bytes int64) Option { return func(p *Provider) { p.extraMemory = bytes } }

// WithReadyTimeout bounds the wait for the nodes to be Ready (DefaultReadyTimeout).
func WithReadyTimeout(d time.Duration) Option { return func(p *Provider) { p.readyTimeout = d } }

// New returns the kind provider.
func New(opts ...Option) *Provider {
	p := &Provider{
		run:           ExecRunner,
		dockerTimeout: DefaultDockerTimeout,
		listen:        net.Listen,
		newBackend:    newKindBackend,
		probe:         listNodesWithClientGo,
		readyTimeout:  DefaultReadyTimeout,
		settleWait:    settleTimeout,
		pollEvery:     3 * time.Second,
	}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// Name is "kind".
func (p *Provider) Name() string { return "kind" }

// Info: lab owns kind clusters, runs real containers and maps the lab's ports.
func (p *Provider) Info() cluster.Info { return cluster.Info{HostPorts: true} }

// plan is what a request asks of kind.
type plan struct {
	name   string
	config *v1alpha4.Cluster
	counts NodeCounts
	ports  []int
	image  string
}

// newPlan builds the cluster's configuration. With a bundle, the node image is the
// bundle's (as loaded into Docker) instead of the one NodeImage picks.
func newPlan(req cluster.Request) (plan, error) {
	if req.Bundle == nil {
		cfg, err := ClusterConfig(req.Name, req.Cluster)
		if err != nil {
			return plan{}, err
		}
		counts, _ := CountNodes(req.Cluster) // ClusterConfig validated the spec
		ports, _ := HostPorts(req.Cluster)
		return plan{name: ClusterName(req.Name), config: cfg, counts: counts, ports: ports, image: cfg.Nodes[0].Image}, nil
	}
	counts, err := CountNodes(req.Cluster)
	if err != nil {
		return plan{}, err
	}
	ports, err := HostPorts(req.Cluster)
	if err != nil {
		return plan{}, err
	}
	image := bundle.LocalRef(req.Bundle.Manifest.NodeImage.Ref)
	cfg := clusterConfig(req.Name, counts, ports, image)
	return plan{name: ClusterName(req.Name), config: cfg, counts: counts, ports: ports, image: image}, nil
}

// Create brings the cluster up. A cluster that already runs with all its nodes is kept;
// one left broken (say by an interrupted create) is deleted and created again.
func (p *Provider) Create(ctx context.Context, req cluster.Request, ev *event.Emitter) error {
	plan, err := newPlan(req)
	if err != nil {
		return err
	}
	kubeconfigPath, err := kubeconfigPathIn(req.WorkDir)
	if err != nil {
		return err
	}
	b := p.newBackend(ev)
	done, err := p.keepOrClear(ctx, b, plan, kubeconfigPath, ev)
	if err != nil || done {
		return err
	}
	if err := os.MkdirAll(req.WorkDir, 0o700); err != nil {
		return errs.Wrap(errs.Internal, err, "cannot create the lab's work directory", "")
	}
	if req.Bundle != nil {
		if err := p.loadNodeImage(ctx, req.Bundle, ev); err != nil {
			return err
		}
	}
	return p.createAndWait(ctx, b, plan, kubeconfigPath)
}

// keepOrClear looks at an existing cluster: done is true when it is healthy and kept;
// a broken one is deleted so that creation can start clean.
func (p *Provider) keepOrClear(ctx context.Context, b backend, plan plan, kubeconfigPath string, ev *event.Emitter) (done bool, err error) {
	exists, err := p.exists(ctx, b, plan.name)
	if err != nil || !exists {
		return false, err
	}
	prob, err := p.waitHealthy(ctx, b, plan.name, plan.counts, p.settleWait)
	if err != nil {
		return false, p.kindError(ctx, err, "inspect kind cluster "+plan.name)
	}
	if prob == nil {
		ev.Info(fmt.Sprintf("kind cluster %s already runs with all its nodes", plan.name))
		return true, p.writeKubeconfig(ctx, b, plan.name, kubeconfigPath)
	}
	ev.Warn(fmt.Sprintf("kind cluster %s is broken (%s): deleting it to create it again", plan.name, prob.Detail))
	if err := b.Delete(plan.name, kubeconfigPath); err != nil {
		return false, p.kindError(ctx, err, "delete broken kind cluster "+plan.name)
	}
	return false, nil
}

// createAndWait runs kind's create, then waits until every node is Ready: kind only
// waits for the control plane, and does not fail when even that times out.
func (p *Provider) createAndWait(ctx context.Context, b backend, plan plan, kubeconfigPath string) error {
	start := time.Now()
	if err := runCancellable(ctx, func() error {
		return b.Create(plan.name, plan.config, kubeconfigPath, p.readyTimeout)
	}); err != nil {
		return withHint(p.kindError(ctx, err, "create kind cluster "+plan.name),
			"Check that Docker can pull "+plan.image+" and has free CPU and memory; running the command again starts over")
	}
	budget := max(p.readyTimeout-time.Since(start), 0)
	prob, err := p.waitHealthy(ctx, b, plan.name, plan.counts, budget)
	if err != nil {
		return p.kindError(ctx, err, "inspect kind cluster "+plan.name)
	}
	if prob != nil {
		return errs.New(errs.Unavailable,
			fmt.Sprintf("kind cluster %s is not ready after %s: %s", plan.name, p.readyTimeout, prob.Detail),
			"Docker may be short of CPU or memory (see `docker stats`); running the command again recreates the cluster")
	}
	return nil
}

// runCancellable returns when fn does or ctx ends. kind's API takes no context, so on
// Ctrl-C its create goes on until the process exits; the next Create finds the
// half-made cluster and replaces it.
func runCancellable(ctx context.Context, fn func() error) error {
	result := make(chan error, 1)
	go func() { result <- fn() }()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Delete removes the cluster; a missing one is already deleted.
func (p *Provider) Delete(ctx context.Context, req cluster.Request) error {
	name := ClusterName(req.Name)
	kubeconfigPath, err := kubeconfigPathIn(req.WorkDir)
	if err != nil {
		return err
	}
	b := p.newBackend(event.NewEmitter(nil))
	exists, err := p.exists(ctx, b, name)
	if err != nil {
		return err
	}
	if exists {
		if err := b.Delete(name, kubeconfigPath); err != nil {
			return p.kindError(ctx, err, "delete kind cluster "+name)
		}
	}
	if err := os.Remove(kubeconfigPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return errs.Wrap(errs.Internal, err, "cannot remove the cluster's kubeconfig", "")
	}
	return nil
}

// Kubeconfig returns kind's admin kubeconfig for the host (API server on 127.0.0.1),
// with its one context, kind-lab-<name>.
func (p *Provider) Kubeconfig(ctx context.Context, req cluster.Request) ([]byte, error) {
	name := ClusterName(req.Name)
	b := p.newBackend(event.NewEmitter(nil))
	exists, err := p.exists(ctx, b, name)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, errs.New(errs.Unavailable, fmt.Sprintf("kind cluster %s does not exist", name), "Create the lab first")
	}
	kubeconfig, err := b.Kubeconfig(name)
	if err != nil {
		return nil, p.kindError(ctx, err, "read the kubeconfig of kind cluster "+name)
	}
	return []byte(kubeconfig), nil
}

// Status is Missing when kind does not list the cluster, Running when its containers
// run and its API server answers, Stopped otherwise.
func (p *Provider) Status(ctx context.Context, req cluster.Request) (cluster.Status, error) {
	name := ClusterName(req.Name)
	b := p.newBackend(event.NewEmitter(nil))
	exists, err := p.exists(ctx, b, name)
	if err != nil {
		return cluster.Status{}, err
	}
	if !exists {
		return cluster.Status{State: cluster.Missing}, nil
	}
	var want *NodeCounts
	if counts, err := CountNodes(req.Cluster); err == nil {
		want = &counts
	}
	prob, err := p.diagnose(ctx, b, name, want)
	if err != nil {
		return cluster.Status{}, p.kindError(ctx, err, "inspect kind cluster "+name)
	}
	switch {
	case prob == nil:
		return cluster.Status{State: cluster.Running}, nil
	case prob.APIUp:
		return cluster.Status{State: cluster.Running, Detail: prob.Detail}, nil
	default:
		return cluster.Status{State: cluster.Stopped, Detail: prob.Detail}, nil
	}
}

// exists reports whether kind lists the cluster.
func (p *Provider) exists(ctx context.Context, b backend, name string) (bool, error) {
	clusters, err := b.List()
	if err != nil {
		return false, p.kindError(ctx, err, "list kind clusters")
	}
	return slices.Contains(clusters, name), nil
}

// writeKubeconfig refreshes the kubeconfig file of a cluster that Create keeps, in
// case the work directory was cleaned since it was created.
func (p *Provider) writeKubeconfig(ctx context.Context, b backend, name, path string) error {
	kubeconfig, err := b.Kubeconfig(name)
	if err != nil {
		return p.kindError(ctx, err, "read the kubeconfig of kind cluster "+name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return errs.Wrap(errs.Internal, err, "cannot create the lab's work directory", "")
	}
	return errs.Wrap(errs.Internal, os.WriteFile(path, []byte(kubeconfig), 0o600), "cannot write the cluster's kubeconfig", "")
}

// kindError turns a failure of kind or docker into an *errs.Error; kind's messages
// ("command docker ps failed") hide the usual cause, a daemon that went away.
func (p *Provider) kindError(ctx context.Context, err error, doing string) error {
	var typed *errs.Error
	if errors.As(err, &typed) || ctx.Err() != nil {
		return err
	}
	if _, dockerErr := readDockerInfo(ctx, p.run, p.dockerTimeout); dockerErr != nil {
		return dockerErr
	}
	return errs.Wrap(errs.Internal, err, "cannot "+doing, "")
}

// withHint adds a hint to an *errs.Error that has none.
func withHint(err error, hint string) error {
	var typed *errs.Error
	if errors.As(err, &typed) && typed.Hint == "" {
		typed.Hint = hint
	}
	return err
}

// kubeconfigPathIn is where kind writes the cluster's kubeconfig. Without a work
// directory kind would fall back to the user's kubeconfig, which lab must not touch.
func kubeconfigPathIn(workDir string) (string, error) {
	if workDir == "" {
		return "", errs.New(errs.Internal, "the kind provider needs the lab's work directory", "")
	}
	return filepath.Join(workDir, kubeconfigFile), nil
}

// LeftBehind names the kind cluster a forgotten lab may leave, and how to remove it.
func (p *Provider) LeftBehind(req cluster.Request) string {
	name := ClusterName(req.Name)
	return fmt.Sprintf("kind cluster %s, if it was created (its containers are named %s-*): remove it with `kind delete cluster --name %s` once Docker runs",
		name, name, name)
}
