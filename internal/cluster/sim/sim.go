// Package sim is the Docker-free cluster provider: a real etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler run as local processes (kwokctl's binary
// runtime) and kwok simulates the nodes. Deployments schedule and their pods report
// Running, but no container runs: no logs, exec, port-forward or workload metrics.
package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Notice is what `lab status` says about every sim lab.
const Notice = "simulated cluster: pods are scheduled and report Running, but no container runs (no logs, exec, port-forward or workload metrics)"

// Provider runs sim clusters.
type Provider struct {
	find func() (Binaries, error)
}

// New returns the sim provider, finding its binaries with FindBinaries.
func New() *Provider { return &Provider{find: FindBinaries} }

var _ cluster.Provider = (*Provider)(nil)

func (p *Provider) Name() string { return spec.ProviderSim }

// Info: kwok simulates every node, so no container runs and there is no host network.
func (p *Provider) Info() cluster.Info { return cluster.Info{Simulated: true} }

// clusterName is kwokctl's name for the lab's cluster.
func clusterName(lab string) string { return "lab-" + lab }

func kwokDir(req cluster.Request) string { return filepath.Join(req.WorkDir, "kwok") }

// clusterDir is where kwokctl keeps the cluster's config, pids and logs.
func clusterDir(req cluster.Request) string {
	return filepath.Join(kwokDir(req), "clusters", clusterName(req.Name))
}

// Preflight finds the binaries and checks they serve the lab's Kubernetes version.
func (p *Provider) Preflight(ctx context.Context, req cluster.Request, ev *event.Emitter) error {
	bins, err := p.find()
	if err != nil {
		return err
	}
	if req.Cluster.Ports != nil && len(req.Cluster.Ports) > 0 {
		ev.Warn(fmt.Sprintf("sim clusters map no host ports; ports %v are ignored", req.Cluster.Ports))
	}
	have, err := bins.KubeVersion(ctx)
	if err != nil || have == "" {
		return err
	}
	if !sameMinor(have, req.Cluster.KubernetesVersion) {
		return errs.New(errs.Invalid,
			fmt.Sprintf("this lab asks for Kubernetes %s but the sim binaries in %s are %s", req.Cluster.KubernetesVersion, bins.Dir, have),
			fmt.Sprintf("set kubernetesVersion: %s in the lab file, or point %s at binaries of %s", minorOf(have), BinDirEnv, req.Cluster.KubernetesVersion))
	}
	return nil
}

// minorOf turns v1.36.3 into v1.36.
func minorOf(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func sameMinor(have, want string) bool { return want == "" || minorOf(have) == minorOf(want) }

// Create starts the cluster, or finishes starting it: a stopped cluster, or a running
// one with a component down (Status's Problem), has what stopped started again; an
// interrupted create is deleted and created anew. Then the lab's nodes are registered
// for kwok to simulate.
func (p *Provider) Create(ctx context.Context, req cluster.Request, ev *event.Emitter) error {
	bins, err := p.find()
	if err != nil {
		return err
	}
	st, err := p.Status(ctx, req)
	if err != nil {
		return err
	}
	switch {
	case st.State == cluster.Missing:
		return p.createFresh(ctx, bins, req, ev)
	case !complete(req):
		// An interrupted create may have started some components and not others (an
		// API server without kwok's controller answers, but its nodes never become
		// Ready). Nothing in it is worth keeping: start over.
		ev.Info("the sim cluster's create was interrupted; creating it anew")
		return p.replace(ctx, bins, req, ev)
	case st.State == cluster.Stopped || st.Problem != "":
		// kwokctl's start launches only the components that are not running. A cluster
		// that does not start again is kept as it is, with its data (etcd's is intact
		// after any component died): only --recreate replaces it.
		if err := p.restart(ctx, bins, req); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errs.New(errs.Unavailable, "the sim cluster did not start again: "+firstLine(err)+"; it is left as it is, with its data",
				"run `lab up` again, look at the components' logs in "+filepath.Join(clusterDir(req), "logs")+
					", or `lab up --recreate` to delete the cluster and create it empty")
		}
	}
	return p.registerNodes(ctx, req)
}

// replace deletes what exists of the cluster and creates it anew.
func (p *Provider) replace(ctx context.Context, bins Binaries, req cluster.Request, ev *event.Emitter) error {
	if err := p.Delete(ctx, req); err != nil {
		return err
	}
	return p.createFresh(ctx, bins, req, ev)
}

// createFresh creates the cluster and registers its nodes. A component that stops while
// the API server comes up (a port taken by another program between lab choosing it and
// the component binding it) costs one more try, with other ports.
func (p *Provider) createFresh(ctx context.Context, bins Binaries, req cluster.Request, ev *event.Emitter) error {
	for try := 1; ; try++ {
		if err := p.createCluster(ctx, bins, req); err != nil {
			return err
		}
		err := p.registerNodes(ctx, req)
		var down *componentDownError
		if try == 2 || !errors.As(err, &down) {
			return err
		}
		ev.Warn("the new sim cluster lost a component (" + down.what + "); creating it again on other ports")
		if err := p.Delete(ctx, req); err != nil {
			return err
		}
	}
}

// restart starts a stopped cluster, or the components of it that are down, and checks
// that it is really its own API server that answers (its ports may have been taken
// meanwhile) and that every component runs.
func (p *Provider) restart(ctx context.Context, bins Binaries, req cluster.Request) error {
	dir := clusterDir(req)
	kwokWasDown := slices.Contains(downComponents(dir), "kwok-controller")
	released := false
	if kwokWasDown {
		// Before the new controller starts, when the API server answers: it then takes
		// the nodes at its first try rather than its second, ~10 s later.
		leaseCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		released = p.releaseNodeLeases(leaseCtx, req) == nil
		cancel()
	}
	// kwokctl waits for components that may never come up (a port taken meanwhile).
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.startDown(ctx, startCtx, bins, req); err != nil {
		return err
	}
	if kwokWasDown && !released {
		// The API server was down too (a reboot): the controller just started has
		// already seen the dead one's leases and scheduled its next look for when they
		// expire. Released now, they are taken at once by a controller started after.
		if err := p.releaseNodeLeases(ctx, req); err != nil {
			return err
		}
		stopComponent(dir, "kwok-controller")
		return p.startDown(ctx, startCtx, bins, req)
	}
	return nil
}

// startDown has kwokctl start the components that are down and waits until the
// cluster is healthy: kwokctl's start returns once the processes are forked, not once
// they serve.
//
// A component can stop after kwokctl started the others: the controller-manager, the
// scheduler and kwok's controller exit when they could not renew their leader lease
// while the API server was down. Those are started again, up to three rounds.
func (p *Provider) startDown(ctx, startCtx context.Context, bins Binaries, req cluster.Request) error {
	for round := 1; ; round++ {
		forgetDown(clusterDir(req))
		if err := p.kwokctl(startCtx, bins, req, "start", "cluster"); err != nil {
			return err
		}
		err := p.waitHealthy(ctx, req, time.Minute)
		if err == nil || round == 3 || ctx.Err() != nil || len(downComponents(clusterDir(req))) == 0 {
			return err
		}
	}
}

// waitHealthy waits for the API server to be ready (etcd reached, caches filled) with
// every component running, and gives up at once when a component stops.
func (p *Provider) waitHealthy(ctx context.Context, req cluster.Request, timeout time.Duration) error {
	cs, err := p.client(ctx, req)
	if err != nil {
		return err
	}
	dir := clusterDir(req)
	var last string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if problem := describeDown(dir); problem != "" {
			return false, errors.New(problem)
		}
		readyCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := kube.ServerReady(readyCtx, cs); err != nil {
			last = "the API server is not ready: " + firstLine(err)
			return false, nil
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil && last != "" {
		return fmt.Errorf("%s (%w)", last, err)
	}
	return err
}

// releaseNodeLeases deletes the node leases a dead kwok controller held. Each kwok
// controller has an identity of its own and waits for another's leases to expire (40 s
// after their last renewal) before it manages their nodes; the one just started takes
// them over at its next try instead.
func (p *Provider) releaseNodeLeases(ctx context.Context, req cluster.Request) error {
	cs, err := p.client(ctx, req)
	if err != nil {
		return err
	}
	for _, n := range nodesFor(req.Name, req.Cluster) {
		err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, n.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("releasing the lease of node %s: %w", n.Name, err)
		}
	}
	return nil
}

func (p *Provider) createCluster(ctx context.Context, bins Binaries, req cluster.Request) error {
	// A leftover directory from an interrupted create would make kwokctl reuse half a
	// configuration; start clean.
	if err := os.RemoveAll(clusterDir(req)); err != nil {
		return err
	}
	if err := writePortConfig(kwokDir(req)); err != nil {
		return err
	}
	// No --wait: kwokctl's wait polls /healthz every 0.5 s through kubectl and holds
	// until every post-start hook is done (RBAC bootstrap among them), 1.5 to 2.5 s that
	// node registration does not need (lab's admin identity is system:masters).
	// registerNodes retries until the API server accepts, at a finer interval.
	args := []string{"create", "cluster", "--runtime", "binary", "--kubeconfig", kwokctlKubeconfig(req)}
	args = append(args, bins.binaryFlags()...)
	err := p.kwokctl(ctx, bins, req, args...)
	if err != nil && ctx.Err() == nil {
		// Leave nothing half-started behind a failed create.
		p.Delete(context.WithoutCancel(ctx), req)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(clusterDir(req), createdMarker), nil, 0o600)
}

// createdMarker is the file lab writes once kwokctl's create returned successfully.
// kwokctl's own files do not tell: it writes the kubeconfig before it starts the
// components, so a create killed midway leaves a config that looks finished.
const createdMarker = "lab-created"

// kwokctl runs one kwokctl command for the lab's cluster, in the lab's own work dir.
func (p *Provider) kwokctl(ctx context.Context, bins Binaries, req cluster.Request, args ...string) error {
	_, err := p.kwokctlOutput(ctx, bins, req, args...)
	return err
}

func (p *Provider) kwokctlOutput(ctx context.Context, bins Binaries, req cluster.Request, args ...string) ([]byte, error) {
	full := append([]string{"--name", clusterName(req.Name)}, args...)
	cmd := exec.CommandContext(ctx, bins.Kwokctl, full...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+kwokDir(req))
	// Its own process group, so a Ctrl-C in the terminal reaches lab first and lab
	// decides how to stop kwokctl (the next `lab up` completes the job).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("kwokctl %s: %v: %s", strings.Join(args[:min(2, len(args))], " "), err, lastLines(stderr.String(), 5))
	}
	return stdout.Bytes(), nil
}

// Delete stops every process of the cluster and removes its files. kwokctl does the
// work; if it cannot (a corrupt config), the pids kwokctl recorded are killed directly.
func (p *Provider) Delete(ctx context.Context, req cluster.Request) error {
	if !exists(clusterDir(req)) {
		return os.RemoveAll(kwokDir(req))
	}
	bins, err := p.find()
	if err == nil {
		err = p.kwokctl(ctx, bins, req, "delete", "cluster", "--kubeconfig", kwokctlKubeconfig(req))
	}
	killRecordedPIDs(clusterDir(req))
	if rmErr := os.RemoveAll(kwokDir(req)); rmErr != nil {
		return rmErr
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// killRecordedPIDs is the fallback of Delete: kwokctl's binary runtime writes one pid
// file per component.
func killRecordedPIDs(dir string) {
	for _, pid := range componentPIDs(dir) {
		if pid > 1 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Kubeconfig returns kwokctl's admin kubeconfig for the cluster, with the certificates
// inlined. Inlining matters beyond convenience: client-go caches TLS transports by CA
// file path, and a recreated cluster has a new CA at the same path.
func (p *Provider) Kubeconfig(ctx context.Context, req cluster.Request) ([]byte, error) {
	path := filepath.Join(clusterDir(req), "kubeconfig.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the sim cluster has no kubeconfig yet: %w", err)
	}
	return kube.Flatten(data)
}

// Status is Missing without the cluster's folder; Stopped after an interrupted create
// (no created marker) or when the API server does not answer; Running otherwise, with
// Problem naming any component that is down.
func (p *Provider) Status(ctx context.Context, req cluster.Request) (cluster.Status, error) {
	st := cluster.Status{Simulated: true, State: cluster.Missing}
	if !complete(req) {
		if exists(clusterDir(req)) {
			st.State, st.Detail = cluster.Stopped, "an interrupted create left an incomplete cluster"
		}
		return st, nil
	}
	cs, err := p.client(ctx, req)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err = kube.ServerVersion(ctx, cs)
	}
	if err != nil {
		st.State, st.Detail = cluster.Stopped, "the API server does not answer: "+firstLine(err)
		return st, nil
	}
	st.State, st.Detail = cluster.Running, Notice
	st.Problem = describeDown(clusterDir(req))
	return st, nil
}

// complete is true once kwokctl's create finished, all components started.
func complete(req cluster.Request) bool {
	dir := clusterDir(req)
	return exists(filepath.Join(dir, createdMarker)) && exists(filepath.Join(dir, "kubeconfig.yaml"))
}

func (p *Provider) client(ctx context.Context, req cluster.Request) (kubernetes.Interface, error) {
	data, err := p.Kubeconfig(ctx, req)
	if err != nil {
		return nil, err
	}
	return kube.Clientset(data)
}

// registerNodes creates the lab's nodes, named like kind's (lab-control-plane,
// lab-worker, lab-worker2), for kwok to manage. The control plane is tainted when
// workers exist, as kubeadm does, so workloads land on workers.
func (p *Provider) registerNodes(ctx context.Context, req cluster.Request) error {
	cs, err := p.client(ctx, req)
	if err != nil {
		return err
	}
	for _, n := range nodesFor(req.Name, req.Cluster) {
		if err := createNode(ctx, cs, n, clusterDir(req)); err != nil {
			return fmt.Errorf("registering node %s: %w", n.Name, err)
		}
	}
	return waitDefaultNamespace(ctx, cs)
}

// waitDefaultNamespace waits for the API server's bootstrap to create the namespace
// "default": without kwokctl's --wait, the nodes can be registered before it exists,
// and a `kubectl apply` right after `lab up` would fail.
func waitDefaultNamespace(ctx context.Context, cs kubernetes.Interface) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, last = cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		return last == nil, nil
	})
	if err != nil && last != nil && ctx.Err() == nil {
		return fmt.Errorf("the API server did not create namespace default: %w", last)
	}
	return err
}

// createNode creates n, retrying while the API server is still starting, and giving up
// at once when a component of the cluster (dir) stopped: it would never start.
func createNode(ctx context.Context, cs kubernetes.Interface, n *corev1.Node, dir string) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, last = cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if last == nil || apierrors.IsAlreadyExists(last) {
			return true, nil
		}
		if down := describeDown(dir); down != "" {
			return false, &componentDownError{what: down}
		}
		return false, nil
	})
	var down *componentDownError
	if err != nil && last != nil && !errors.As(err, &down) {
		return last // why the API server refused, more telling than a timeout
	}
	return err
}

// kwokctlKubeconfig is the file kwokctl adds its context to. Without it kwokctl edits
// the user's ~/.kube/config; lab merges its own context, named lab-<name>.
func kwokctlKubeconfig(req cluster.Request) string {
	return filepath.Join(req.WorkDir, "kwokctl.kubeconfig")
}

// nodesFor builds the Node objects of a cluster spec.
func nodesFor(lab string, c spec.ClusterSpec) []*corev1.Node {
	workers := 0
	for _, g := range c.Nodes {
		if g.Role == spec.RoleWorker {
			workers += max(g.Count, 1)
		}
	}
	nodes := []*corev1.Node{node(lab+"-control-plane", true, workers > 0)}
	for i := 1; i <= workers; i++ {
		name := lab + "-worker"
		if i > 1 {
			name += strconv.Itoa(i)
		}
		nodes = append(nodes, node(name, false, false))
	}
	return nodes
}

func node(name string, controlPlane, tainted bool) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			// kwokctl's kwok-controller manages nodes carrying this annotation.
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"type": "kwok", "app.kubernetes.io/managed-by": "lab",
			},
		},
		Status: corev1.NodeStatus{
			Allocatable: capacity(), Capacity: capacity(),
			NodeInfo: corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64", KubeletVersion: "fake"},
		},
	}
	if controlPlane {
		n.Labels["node-role.kubernetes.io/control-plane"] = ""
		n.Labels["ingress-ready"] = "true"
	}
	if tainted {
		n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	}
	return n
}

// capacity of a simulated node: roughly a laptop's share, so resource requests of the
// bundled stacks schedule the way they would on kind.
func capacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LeftBehind names the processes a forgotten sim lab may leave running, and how to
// find them: their command lines hold the cluster's directory.
func (p *Provider) LeftBehind(req cluster.Request) string {
	return fmt.Sprintf("processes of sim cluster %s, if any still run: list them with `pgrep -af %s` and stop them with `pkill -f %s`",
		clusterName(req.Name), clusterDir(req), clusterDir(req))
}
