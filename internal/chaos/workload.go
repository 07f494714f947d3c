package chaos

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
)

// ownerOf is the workload a person would name for a pod with controller ctrl: a
// ReplicaSet's Deployment, else the controller itself (StatefulSet, DaemonSet, Job, bare
// ReplicaSet). ok is false for a bare pod. rsOwners caches ReplicaSet lookups.
func ownerOf(ctx context.Context, env *Env, ns string, ctrl *metav1.OwnerReference, rsOwners map[string]ObjectRef) (ObjectRef, bool, error) {
	if ctrl == nil {
		return ObjectRef{}, false, nil
	}
	ref := ObjectRef{Kind: ctrl.Kind, Namespace: ns, Name: ctrl.Name}
	if ctrl.Kind != "ReplicaSet" {
		return ref, true, nil
	}
	if owner, ok := rsOwners[ctrl.Name]; ok {
		return owner, true, nil
	}
	rs, err := env.Client.AppsV1().ReplicaSets(ns).Get(ctx, ctrl.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ref, true, nil
	}
	if err != nil {
		return ObjectRef{}, false, fmt.Errorf("reading replicaset %s: %w", ctrl.Name, err)
	}
	if dep := metav1.GetControllerOf(rs); dep != nil && dep.Kind == "Deployment" {
		ref = ObjectRef{Kind: "Deployment", Namespace: ns, Name: dep.Name}
	}
	rsOwners[ctrl.Name] = ref
	return ref, true, nil
}

// healthy reports whether a workload is fully rolled out with every replica Ready, and
// if not, what is missing. Ready pods are counted from the pods themselves as well as
// the status, because right after a pod is deleted the status still counts it.
func healthy(ctx context.Context, env *Env, ref ObjectRef) (bool, string, error) {
	apps := env.Client.AppsV1()
	var want, ready int32
	var selector *metav1.LabelSelector
	switch ref.Kind {
	case "Deployment":
		d, err := apps.Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want, ready, selector = replicasOf(d.Spec.Replicas), d.Status.ReadyReplicas, d.Spec.Selector
		s := d.Status
		if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.Replicas != want || s.AvailableReplicas != want {
			return false, fmt.Sprintf("rollout in progress: %d of %d updated, %d available", s.UpdatedReplicas, want, s.AvailableReplicas), nil
		}
	case "StatefulSet":
		s, err := apps.StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want, ready, selector = replicasOf(s.Spec.Replicas), s.Status.ReadyReplicas, s.Spec.Selector
		if s.Status.ObservedGeneration < s.Generation || s.Status.UpdateRevision != s.Status.CurrentRevision && s.Status.UpdateRevision != "" {
			return false, "rollout in progress", nil
		}
	case "ReplicaSet":
		rs, err := apps.ReplicaSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want, ready, selector = replicasOf(rs.Spec.Replicas), rs.Status.ReadyReplicas, rs.Spec.Selector
	case "DaemonSet":
		ds, err := apps.DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want, ready, selector = ds.Status.DesiredNumberScheduled, ds.Status.NumberReady, ds.Spec.Selector
	case "Rollout":
		return rolloutHealthy(ctx, env, ref)
	case "Node":
		n, err := env.Client.CoreV1().Nodes().Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		if !kube.NodeReady(n) {
			return false, "node not Ready", nil
		}
		return true, "", nil
	default:
		return true, "", nil // nothing to wait for
	}
	if ready < want {
		return false, fmt.Sprintf("%d of %d replicas ready", ready, want), nil
	}
	readyPods, err := countReadyPods(ctx, env, ref.Namespace, selector)
	if err != nil {
		return false, "", err
	}
	if readyPods < int(want) {
		return false, fmt.Sprintf("%d of %d pods ready", readyPods, want), nil
	}
	return true, "", nil
}

// rolloutHealthy is the Argo Rollouts controller's own verdict: phase Healthy for the
// rollout's current spec (every step done, the stable version fully available).
func rolloutHealthy(ctx context.Context, env *Env, ref ObjectRef) (bool, string, error) {
	ro, err := env.rollouts().Get(ctx, ref.Namespace, ref.Name)
	if err != nil {
		return false, "", err
	}
	if !ro.Observed || ro.Phase != delivery.PhaseHealthy {
		return false, fmt.Sprintf("phase %s %s", orDash(ro.Phase), ro.Message), nil
	}
	return true, "", nil
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func countReadyPods(ctx context.Context, env *Env, ns string, sel *metav1.LabelSelector) (int, error) {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return 0, err
	}
	pods, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range pods.Items {
		if p := &pods.Items[i]; live(p) && podReady(p) {
			n++
		}
	}
	return n, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitHealthy polls until every workload is healthy, returning the last reason when the
// timeout comes first. A workload that was deleted meanwhile counts as healthy: there is
// nothing left to recover.
func waitHealthy(ctx context.Context, env *Env, refs []ObjectRef, timeout time.Duration) error {
	var why string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, ref := range refs {
			ok, reason, err := healthy(ctx, env, ref)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil || !ok {
				why = ref.String() + ": " + reason
				if err != nil {
					why = ref.String() + ": " + err.Error()
				}
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("not recovered after %s: %s", timeout, why)
	}
	return err
}

// selectorOf is a workload's pod selector, for faults that act next to its pods.
func selectorOf(ctx context.Context, env *Env, ref ObjectRef) (labels.Selector, error) {
	apps := env.Client.AppsV1()
	var sel *metav1.LabelSelector
	switch ref.Kind {
	case "Deployment":
		d, err := apps.Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		sel = d.Spec.Selector
	case "StatefulSet":
		s, err := apps.StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		sel = s.Spec.Selector
	case "DaemonSet":
		ds, err := apps.DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		sel = ds.Spec.Selector
	case "ReplicaSet":
		rs, err := apps.ReplicaSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		sel = rs.Spec.Selector
	default:
		return nil, fmt.Errorf("%s has no pod selector", ref)
	}
	return metav1.LabelSelectorAsSelector(sel)
}

// parseSelector reads a label selector ("" selects everything).
func parseSelector(s string) (labels.Selector, error) {
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, errs.Invalidf("", "%q is not a label selector: %v", s, err)
	}
	return sel, nil
}

func labelSet(m map[string]string) labels.Set { return labels.Set(m) }
