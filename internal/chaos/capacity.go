package chaos

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

// The capacity caps bound the faults that grow something (scale up, the hogs) by what
// the lab's nodes can hold, as the blast-radius caps bound those that take away:
//
//   - scale may add at most as many pods as the schedulable nodes (not cordoned, no
//     NoSchedule or NoExecute taint) have free pod slots: the sum of their allocatable
//     pods, less the live pods already on them. More would only wait Pending, and on
//     kind each one is a container on the trainee's machine.
//   - a hog may ask for at most the allocatable CPU (cpu-hog) or memory (memory-hog) of
//     the node it is pinned to. Its limit is what bounds it: above the node's
//     allocatable it bounds nothing, and a memory-hog would fill the node, which on kind
//     is the trainee's machine.
//
// Limits.BeyondCapacity (--beyond-capacity, blastRadius.beyondCapacity) lifts both.

// podRoom is what the schedulable nodes can take in more pods.
type podRoom struct {
	Nodes       int   // schedulable nodes
	Allocatable int64 // the sum of their allocatable pods
	Used        int64 // live pods bound to them
}

func (r podRoom) free() int64 { return max(r.Allocatable-r.Used, 0) }

// checkGrowth refuses a scale from original to wanted replicas that adds more pods than
// the room there is.
func checkGrowth(ref ObjectRef, original, wanted int32, room podRoom, lim Limits) error {
	added := int64(wanted) - int64(original)
	if added <= 0 || lim.BeyondCapacity || added <= room.free() {
		return nil
	}
	return atParam("replicas", errs.Invalidf(
		fmt.Sprintf("scale to at most %d, or %s if you mean it", int64(original)+room.free(), lim.allow("beyondCapacity")),
		"scale would add %d pods to %s (%d -> %d replicas), more than the %d free pod slots of the lab's %d schedulable node(s) (%d allocatable, %d in use)",
		added, ref, original, wanted, room.free(), room.Nodes, room.Allocatable, room.Used))
}

// checkHogSize refuses a hog that asks for more of a resource than its node has
// allocatable.
func checkHogSize(param, amount string, node string, allocatable resource.Quantity, lim Limits) error {
	want, err := resource.ParseQuantity(amount)
	if err != nil || lim.BeyondCapacity || want.Cmp(allocatable) <= 0 {
		return nil // a bad quantity is Validate's to report
	}
	what := "CPU"
	if param == "memory" {
		what = "memory"
	}
	return atParam(param, errs.Invalidf(
		fmt.Sprintf("ask for at most %s, or %s if you mean it", allocatable.String(), lim.allow("beyondCapacity")),
		"the hog would use up to %s %s, more than the %s allocatable on node %s where it runs: its limit would bound nothing",
		want.String(), what, allocatable.String(), node))
}

// schedulable is a node new pods may land on.
func schedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	return true
}

// roomForPods reads the nodes and the pods bound to them.
func roomForPods(ctx context.Context, env *Env) (podRoom, error) {
	nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return podRoom{}, fmt.Errorf("listing nodes: %w", err)
	}
	var room podRoom
	open := map[string]bool{}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if !schedulable(n) {
			continue
		}
		open[n.Name] = true
		room.Nodes++
		room.Allocatable += n.Status.Allocatable.Pods().Value()
	}
	all, err := env.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"})
	if err != nil {
		return podRoom{}, fmt.Errorf("listing pods: %w", err)
	}
	for i := range all.Items {
		if p := &all.Items[i]; live(p) && open[p.Spec.NodeName] {
			room.Used++
		}
	}
	return room, nil
}
