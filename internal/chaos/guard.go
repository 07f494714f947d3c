package chaos

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

// guardNamespace refuses a protected namespace unless --include-system.
func guardNamespace(ctx context.Context, env *Env, ns string, lim Limits) error {
	why, err := env.protectedReason(ctx, ns)
	if err != nil {
		return err
	}
	if why == "" || lim.IncludeSystem {
		return nil
	}
	return atParam("namespace", errs.Invalidf(lim.allow("includeSystem")+" to act on it anyway",
		"namespace %s is protected from chaos: %s", ns, why))
}

// guardBlastRadius refuses a fault that would delete or evict more pods than the caps
// allow: victims of total pods in scope (a namespace, or the cluster for a drain).
func guardBlastRadius(fault, verb string, victims, total int, scope string, lim Limits) error {
	if victims > lim.MaxPods {
		return errs.Invalidf(fmt.Sprintf("raise %s to %d or more if you mean it", lim.option("maxPods"), victims),
			"%s would %s %d pods, above the blast-radius cap of %d pods (%s)", fault, verb, victims, lim.MaxPods, lim.option("maxPods"))
	}
	if total > 0 && victims*100 > lim.MaxPercent*total {
		pct := (victims*100 + total - 1) / total
		return errs.Invalidf(fmt.Sprintf("raise %s to %d or more if you mean it", lim.option("maxPercent"), pct),
			"%s would %s %d of the %d pods %s (%d%%), above the blast-radius cap of %d%% (%s)",
			fault, verb, victims, total, scope, pct, lim.MaxPercent, lim.option("maxPercent"))
	}
	return nil
}

// isSystemPod is a pod a node needs to work: a static (mirror) pod or one of a
// DaemonSet, which a drain leaves alone and a pod-kill leaves alone unless
// --include-system.
func isSystemPod(p *corev1.Pod) bool {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return true
	}
	for _, o := range p.OwnerReferences {
		if o.Controller != nil && *o.Controller && o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// live is a pod that is not already on its way out.
func live(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// paramError is a refusal about one parameter: a gameday reports it at that field's
// line. It unwraps to the refusal itself (an *errs.Error), so its kind and hint stay.
type paramError struct {
	param string
	err   error
}

func (e *paramError) Error() string { return e.err.Error() }
func (e *paramError) Unwrap() error { return e.err }

// atParam ties a refusal to the parameter it is about.
func atParam(param string, err error) error {
	if err == nil {
		return nil
	}
	return &paramError{param: param, err: err}
}

// stateError is a refusal that depends on what the cluster holds at the fault's time
// (no pod matches yet, a count already set): a gameday checks it when the fault comes,
// since an earlier fault of the drill may change it, not before the drill.
type stateError struct{ err error }

func (e *stateError) Error() string { return e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }

func dependsOnState(err error) error {
	if err == nil {
		return nil
	}
	return &stateError{err: err}
}
