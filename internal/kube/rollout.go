package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// Workload names one object whose rollout can be waited for.
type Workload struct {
	Kind      string
	Namespace string
	Name      string
}

func (w Workload) String() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// HasRollout reports the kinds RolloutStatus understands: Deployment, StatefulSet and
// DaemonSet.
func HasRollout(kind string) bool {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		return true
	}
	return false
}

// RolloutStatus answers what `kubectl rollout status` waits for: the controller has seen
// the latest spec and every replica is updated and available. If not, why says what is
// missing. Kinds without a rollout are done.
func RolloutStatus(ctx context.Context, cs kubernetes.Interface, w Workload) (done bool, why string, err error) {
	apps := cs.AppsV1()
	switch w.Kind {
	case "Deployment":
		d, err := apps.Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		done, why := deploymentRolledOut(d)
		return done, why, nil
	case "StatefulSet":
		s, err := apps.StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		done, why := statefulSetRolledOut(s)
		return done, why, nil
	case "DaemonSet":
		d, err := apps.DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		done, why := daemonSetRolledOut(d)
		return done, why, nil
	}
	return true, "", nil
}

const unseenSpec = "the controller has not seen the new spec yet"

func deploymentRolledOut(d *appsv1.Deployment) (bool, string) {
	want := replicasOf(d.Spec.Replicas)
	st := d.Status
	switch {
	case st.ObservedGeneration < d.Generation:
		return false, unseenSpec
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.AvailableReplicas < want || st.Replicas > st.UpdatedReplicas:
		return false, fmt.Sprintf("%d of %d replicas available", st.AvailableReplicas, want)
	}
	return true, ""
}

func statefulSetRolledOut(s *appsv1.StatefulSet) (bool, string) {
	want := replicasOf(s.Spec.Replicas)
	st := s.Status
	// OnDelete updates pods only when someone deletes them: nothing rolls out to wait for.
	rolling := s.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType
	switch {
	case st.ObservedGeneration < s.Generation:
		return false, unseenSpec
	case rolling && st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.ReadyReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas ready", st.ReadyReplicas, want)
	}
	return true, ""
}

func daemonSetRolledOut(d *appsv1.DaemonSet) (bool, string) {
	st := d.Status
	switch {
	case st.ObservedGeneration < d.Generation:
		return false, unseenSpec
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return false, fmt.Sprintf("%d of %d pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.NumberReady < st.DesiredNumberScheduled:
		return false, fmt.Sprintf("%d of %d pods ready", st.NumberReady, st.DesiredNumberScheduled)
	}
	return true, ""
}

// WaitRollouts polls until every workload has rolled out. On timeout the error names
// the first workload still rolling out and why, from the last look that completed: a
// failed read (the API server busy, the deadline near) is retried, and reported only
// when no look completed.
func WaitRollouts(ctx context.Context, cs kubernetes.Interface, ws []Workload, timeout time.Duration) error {
	var pending, failed string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, w := range ws {
			done, why, err := RolloutStatus(ctx, cs, w)
			if err != nil {
				failed = w.String() + ": " + err.Error()
				return false, nil
			}
			if !done {
				pending = w.String() + ": " + why
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil {
		if pending == "" {
			pending = failed
		}
		return fmt.Errorf("not rolled out after %s: %s", timeout, pending)
	}
	return err
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}
