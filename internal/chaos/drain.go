package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cloudnativelab/lab/internal/errs"
)

// nodeDrain cordons a node and evicts its pods through the eviction API, so
// PodDisruptionBudgets are respected; the revert uncordons it.
type nodeDrain struct{}

// pdbRetryFor bounds how long an eviction refused by a PodDisruptionBudget is retried
// before the pod is left where it is and reported.
var pdbRetryFor = 20 * time.Second

func (nodeDrain) Name() string { return "node-drain" }
func (nodeDrain) Summary() string {
	return "cordon a node and evict its pods, respecting PodDisruptionBudgets; revert uncordons it"
}
func (nodeDrain) Params() []string { return []string{"node", "gracePeriod"} }

func (f nodeDrain) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkRequired(p, &errs, "node")
	checkGracePeriod(p, &errs)
	return errs
}

func (nodeDrain) Support(context.Context, *Env) Support { return supported() }

// nsPod is a pod anywhere in the cluster.
type nsPod struct {
	Namespace string `json:"namespace"`
	podRef
}

type blockedPod struct {
	nsPod
	Reason string `json:"reason"`
}

type drainData struct {
	Node               string       `json:"node"`
	WasUnschedulable   bool         `json:"wasUnschedulable"`
	GracePeriodSeconds *int64       `json:"gracePeriodSeconds,omitempty"`
	Planned            []nsPod      `json:"planned"`
	Blocked            []blockedPod `json:"blocked,omitempty"`
}

func (f nodeDrain) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	node, err := env.Client.CoreV1().Nodes().Get(ctx, p.Node, metav1.GetOptions{})
	if err != nil {
		return nil, nodeError(p.Node, err)
	}
	d := &drainData{Node: node.Name, WasUnschedulable: node.Spec.Unschedulable}
	if p.GracePeriod != nil {
		secs := int64(p.GracePeriod.Round(time.Second) / time.Second)
		d.GracePeriodSeconds = &secs
	}
	ref := ObjectRef{Kind: "Node", Name: node.Name}
	plan := &Plan{Fault: f.Name(), Targets: []ObjectRef{ref}, data: d,
		Changes: []Change{{Action: "cordon", ObjectRef: ref, Detail: "spec.unschedulable: true"}}}
	total, err := f.choosePods(ctx, env, plan, d, lim)
	if err != nil {
		return nil, err
	}
	if err := guardBlastRadius(f.Name(), "evict", len(d.Planned), total, "in the cluster", lim); err != nil {
		return nil, err
	}
	plan.Summary = fmt.Sprintf("cordon node %s and evict its %d pod(s)", node.Name, len(d.Planned))
	if d.WasUnschedulable {
		plan.Warnings = append(plan.Warnings, "node "+node.Name+" is cordoned already: the revert leaves it cordoned")
	}
	return plan, nil
}

// choosePods fills the pods to evict, leaving DaemonSet and static pods (as kubectl
// drain does), pods without a controller (nothing would recreate them) and, unless
// --include-system, pods of protected namespaces. total counts the cluster's live pods
// outside protected namespaces, for the blast radius.
func (nodeDrain) choosePods(ctx context.Context, env *Env, plan *Plan, d *drainData, lim Limits) (total int, err error) {
	all, err := env.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("listing pods: %w", err)
	}
	var skipped []string
	rsOwners := map[string]map[string]ObjectRef{}
	for i := range all.Items {
		p := &all.Items[i]
		why, err := env.protectedReason(ctx, p.Namespace)
		if err != nil {
			return 0, err
		}
		if !live(p) || why != "" && !lim.IncludeSystem {
			continue
		}
		total++
		if p.Spec.NodeName != d.Node || isSystemPod(p) {
			continue
		}
		ctrl := metav1.GetControllerOf(p)
		if ctrl == nil {
			skipped = append(skipped, p.Namespace+"/"+p.Name)
			continue
		}
		if rsOwners[p.Namespace] == nil {
			rsOwners[p.Namespace] = map[string]ObjectRef{}
		}
		owner, _, err := ownerOf(ctx, env, p.Namespace, ctrl, rsOwners[p.Namespace])
		if err != nil {
			return 0, err
		}
		if !slices.Contains(plan.Watch, owner) {
			plan.Watch = append(plan.Watch, owner)
		}
		d.Planned = append(d.Planned, nsPod{Namespace: p.Namespace, podRef: podRef{Name: p.Name, UID: p.UID, Node: d.Node}})
		plan.Changes = append(plan.Changes, Change{Action: "evict", ObjectRef: ObjectRef{Kind: "Pod", Namespace: p.Namespace, Name: p.Name}})
	}
	if len(skipped) > 0 {
		plan.Warnings = append(plan.Warnings, "not evicted, no controller would recreate them: "+strings.Join(skipped, ", "))
	}
	return total, nil
}

func nodeError(name string, err error) error {
	if apierrors.IsNotFound(err) {
		return atParam("node", errs.Invalidf("see `kubectl get nodes`", "node %q does not exist", name))
	}
	return fmt.Errorf("reading node %s: %w", name, err)
}

func (nodeDrain) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[drainData](e)
	if err != nil {
		return err
	}
	if err := setUnschedulable(ctx, env, d.Node, true); err != nil {
		return err
	}
	d.Blocked = d.evictAll(ctx, env)
	for _, b := range d.Blocked {
		env.Events.Warn(fmt.Sprintf("pod %s/%s stays on %s: %s", b.Namespace, b.Name, d.Node, b.Reason))
	}
	if err := d.waitEvicted(ctx, env); err != nil {
		return err
	}
	return setData(e, d)
}

// evictAll evicts every planned pod at once, retrying those a PodDisruptionBudget
// protects for pdbRetryFor; it returns the pods left.
func (d *drainData) evictAll(ctx context.Context, env *Env) []blockedPod {
	var mu sync.Mutex
	var blocked []blockedPod
	parallel(len(d.Planned), 16, func(i int) error {
		if reason := d.evict(ctx, env, d.Planned[i]); reason != "" {
			mu.Lock()
			blocked = append(blocked, blockedPod{nsPod: d.Planned[i], Reason: reason})
			mu.Unlock()
		}
		return nil
	})
	slices.SortFunc(blocked, func(a, b blockedPod) int { return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name) })
	return blocked
}

// evict returns why the pod could not be evicted, or "".
func (d *drainData) evict(ctx context.Context, env *Env, p nsPod) string {
	ev := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: d.GracePeriodSeconds, Preconditions: &metav1.Preconditions{UID: &p.UID}},
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, pdbRetryFor, true, func(ctx context.Context) (bool, error) {
		last = env.Client.PolicyV1().Evictions(p.Namespace).Evict(ctx, ev)
		switch {
		case last == nil || apierrors.IsNotFound(last) || apierrors.IsConflict(last):
			return true, nil
		case apierrors.IsTooManyRequests(last):
			return false, nil // a PodDisruptionBudget says not now
		default:
			return false, last
		}
	})
	if err == nil {
		return ""
	}
	if apierrors.IsTooManyRequests(last) {
		return "its PodDisruptionBudget allowed no eviction for " + pdbRetryFor.String()
	}
	return last.Error()
}

// waitEvicted waits until the evicted pods are gone from the node.
func (d *drainData) waitEvicted(ctx context.Context, env *Env) error {
	kept := map[types.UID]bool{}
	for _, b := range d.Blocked {
		kept[b.UID] = true
	}
	wanted := map[types.UID]bool{}
	for _, p := range d.Planned {
		if !kept[p.UID] {
			wanted[p.UID] = true
		}
	}
	sel := fields.OneTermEqualSelector("spec.nodeName", d.Node).String()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := env.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return false, nil
		}
		for _, p := range pods.Items {
			if wanted[p.UID] {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil {
		env.Events.Warn("some evicted pods are still terminating on " + d.Node)
		return nil
	}
	return err
}

func (nodeDrain) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[drainData](e)
	if err != nil {
		return err
	}
	err = setUnschedulable(ctx, env, d.Node, d.WasUnschedulable)
	if apierrors.IsNotFound(err) {
		env.Events.Warn("node " + d.Node + " is gone: there is nothing to uncordon")
		return nil
	}
	return err
}

// setUnschedulable cordons or uncordons a node, unless it is so already.
func setUnschedulable(ctx context.Context, env *Env, name string, on bool) error {
	node, err := env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if node.Spec.Unschedulable == on {
		return nil
	}
	patch := fmt.Appendf(nil, `{"spec":{"unschedulable":%t}}`, on)
	_, err = env.Client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil {
		return fmt.Errorf("setting node %s unschedulable=%t: %w", name, on, err)
	}
	return nil
}
