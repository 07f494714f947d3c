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
	return errs.Invalidf("pass --include-system to act on it anyway",
		"namespace %s is protected from chaos: %s", ns, why)
}

// guardBlastRadius refuses a fault that would delete or evict more pods than the caps
// allow: victims of total pods in scope (a namespace, or the cluster for a drain).
func guardBlastRadius(fault, verb string, victims, total int, scope string, lim Limits) error {
	if victims > lim.MaxPods {
		return errs.Invalidf(fmt.Sprintf("raise --max-pods to %d or more if you mean it", victims),
			"%s would %s %d pods, above the blast-radius cap of %d pods (--max-pods)", fault, verb, victims, lim.MaxPods)
	}
	if total > 0 && victims*100 > lim.MaxPercent*total {
		pct := (victims*100 + total - 1) / total
		return errs.Invalidf(fmt.Sprintf("raise --max-percent to %d or more if you mean it", pct),
			"%s would %s %d of the %d pods %s (%d%%), above the blast-radius cap of %d%% (--max-percent)",
			fault, verb, victims, total, scope, pct, lim.MaxPercent)
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
