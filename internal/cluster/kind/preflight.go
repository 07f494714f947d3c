package kind

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

// Rough memory a kind node needs to run its share of Kubernetes (etcd, API server,
// kubelet, CNI): enough to catch a Docker VM that is obviously too small.
const (
	ControlPlaneMemory int64 = 1536 << 20 // 1.5 GiB
	WorkerMemory       int64 = 1 << 30    // 1 GiB
)

// memoryMargin is how much above the need Docker's memory should be to leave room for
// the workloads; below it, the preflight warns instead of failing.
const memoryMargin = 1.2

// NodeMemory estimates the memory, in bytes, that a cluster's nodes need. Callers add
// the footprint of what runs on the cluster (see WithExtraMemory).
func NodeMemory(counts NodeCounts) int64 {
	return int64(counts.ControlPlanes)*ControlPlaneMemory + int64(counts.Workers)*WorkerMemory
}

// Preflight checks that Docker answers, that it has memory for the nodes, that the
// host ports are free and that the node image is in Docker or can be pulled (without
// a bundle; a pull is the one change it makes).
func (p *Provider) Preflight(ctx context.Context, req cluster.Request, ev *event.Emitter) error {
	plan, err := newPlan(req)
	if err != nil {
		return err
	}
	info, err := readDockerInfo(ctx, p.run, p.dockerTimeout)
	if err != nil {
		return err
	}
	if err := p.checkMemory(info, plan.counts, req.ExtraMemory, ev); err != nil {
		return err
	}
	exists, err := p.exists(ctx, p.newBackend(ev), plan.name)
	if err != nil {
		return err
	}
	// An existing cluster's own containers hold its ports; Create will keep it.
	if !exists {
		if err := p.checkPorts(info, plan.ports, ev); err != nil {
			return err
		}
	}
	if req.Bundle != nil {
		return nil // Create loads the node image from the bundle, verified already
	}
	warnPatch(req.Cluster.KubernetesVersion, plan.image, ev)
	if exists {
		return nil
	}
	return p.checkNodeImage(ctx, plan.image, ev)
}

// checkMemory compares the memory Docker can give (its VM's, on Docker Desktop) with
// what the lab needs: its nodes and what its stacks request (extra).
func (p *Provider) checkMemory(info dockerInfo, counts NodeCounts, extra int64, ev *event.Emitter) error {
	need := NodeMemory(counts) + p.extraMemory + extra
	have := info.MemTotal
	switch {
	case have <= 0: // not reported: nothing to compare
		return nil
	case have < need:
		return errs.New(errs.Unavailable,
			fmt.Sprintf("Docker can use %s of memory, but this lab needs about %s (%s)", gib(have), gib(need), counts),
			"Raise Docker's memory limit (Docker Desktop: Settings > Resources > Memory), or use fewer nodes in the lab file")
	case float64(have) < float64(need)*memoryMargin:
		ev.Warn(fmt.Sprintf("Docker can use %s of memory and this lab needs about %s: the cluster may be slow or evict pods; consider raising Docker's memory limit", gib(have), gib(need)))
	}
	return nil
}

// checkPorts binds each host port for a moment to prove that Docker will be able to.
func (p *Provider) checkPorts(info dockerInfo, ports []int, ev *event.Emitter) error {
	for _, port := range ports {
		ln, err := p.listen("tcp", fmt.Sprintf(":%d", port))
		if err == nil {
			ln.Close()
			continue
		}
		if err := portError(port, err, info, ev); err != nil {
			return err
		}
	}
	return nil
}

// portError explains why a host port cannot be bound, or only warns when the failure
// does not mean Docker will fail too.
func portError(port int, err error, info dockerInfo, ev *event.Emitter) error {
	const portsHint = "set other host ports with `ports:` in the lab file (for example [8080, 8443]), or `ports: []` for none"
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return errs.New(errs.Unavailable,
			fmt.Sprintf("host port %d is already in use", port),
			fmt.Sprintf("Stop the program listening on port %d, or %s", port, portsHint))
	case errors.Is(err, syscall.EACCES) && info.rootless():
		return errs.New(errs.Unavailable,
			fmt.Sprintf("host port %d is privileged (below 1024) and rootless Docker cannot bind it", port),
			"Allow it with `sudo sysctl net.ipv4.ip_unprivileged_port_start=80`, or "+portsHint)
	case errors.Is(err, syscall.EACCES):
		// A rootful daemon binds host ports as root, so only this process lacks the
		// privilege: the port cannot be checked, but the lab can still use it.
		ev.Warn(fmt.Sprintf("could not check host port %d: ports below 1024 need privileges this process lacks (Docker binds them as root)", port))
		return nil
	default:
		return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("host port %d cannot be used", port), portsHint)
	}
}

// warnPatch tells that kind publishes one patch per minor, when the lab asked another.
func warnPatch(kubernetesVersion, image string, ev *event.Emitter) {
	if patchMismatch(kubernetesVersion, image) {
		ev.Warn(fmt.Sprintf("kind v0.33.0 publishes Kubernetes %s, not %s: the lab runs %s",
			NodeImageVersion(image), kubernetesVersion, NodeImageVersion(image)))
	}
}

func gib(bytes int64) string { return fmt.Sprintf("%.1f GiB", float64(bytes)/(1<<30)) }
