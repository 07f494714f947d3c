package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/cloudnativelab/lab/internal/errs"
)

// scaleFault sets a workload's replicas; the revert restores the original count.
type scaleFault struct{}

func (scaleFault) Name() string { return "scale" }
func (scaleFault) Summary() string {
	return "set a Deployment's, StatefulSet's or ReplicaSet's replicas; revert restores the original count"
}
func (scaleFault) Params() []string { return []string{"namespace", "target", "replicas"} }

var scalableKinds = []string{"Deployment", "StatefulSet", "ReplicaSet"}

func (f scaleFault) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkNamespace(p, &errs)
	checkRequired(p, &errs, "target", "replicas")
	checkTarget(p, &errs, scalableKinds...)
	if p.Replicas != nil && *p.Replicas < 0 {
		errs.add("replicas", "must not be negative, got %d", *p.Replicas)
	}
	return errs
}

func (scaleFault) Support(context.Context, *Env) Support { return supported() }

type scaleData struct {
	Target   ObjectRef `json:"target"`
	Original int32     `json:"original"`
	Wanted   int32     `json:"wanted"`
}

func (f scaleFault) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	kind, name, _ := parseTarget(p.Target, scalableKinds...)
	ref := ObjectRef{Kind: kind, Namespace: namespaceOr(p), Name: name}
	if err := guardNamespace(ctx, env, ref.Namespace, lim); err != nil {
		return nil, err
	}
	sc, err := getScale(ctx, env, ref)
	if err != nil {
		return nil, targetError(ref, err)
	}
	d := &scaleData{Target: ref, Original: sc.Spec.Replicas, Wanted: *p.Replicas}
	if d.Original == d.Wanted {
		return nil, dependsOnState(atParam("replicas", errs.Invalidf("pick another replica count", "%s already has %d replicas", ref, d.Original)))
	}
	if removed := int(d.Original - d.Wanted); removed > 0 {
		if err := guardBlastRadius(f.Name(), "remove", removed, 0, "", lim); err != nil {
			return nil, atParam("replicas", err)
		}
	} else if !lim.BeyondCapacity {
		room, err := roomForPods(ctx, env)
		if err != nil {
			return nil, err
		}
		if err := checkGrowth(ref, d.Original, d.Wanted, room, lim); err != nil {
			return nil, err
		}
	}
	return &Plan{
		Fault:   f.Name(),
		Summary: fmt.Sprintf("scale %s from %d to %d replicas", ref, d.Original, d.Wanted),
		Changes: []Change{{Action: "scale", ObjectRef: ref, Detail: fmt.Sprintf("replicas %d -> %d", d.Original, d.Wanted)}},
		Targets: []ObjectRef{ref},
		Watch:   []ObjectRef{ref},
		data:    d,
	}, nil
}

func (scaleFault) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[scaleData](e)
	if err != nil {
		return err
	}
	return setReplicas(ctx, env, d.Target, d.Wanted)
}

func (scaleFault) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[scaleData](e)
	if err != nil {
		return err
	}
	err = setReplicas(ctx, env, d.Target, d.Original)
	if apierrors.IsNotFound(err) {
		env.Events.Warn(fmt.Sprintf("%s is gone: there are no replicas to restore", d.Target))
		return nil
	}
	return err
}

// setReplicas writes the scale subresource, unless it already says n (idempotent).
func setReplicas(ctx context.Context, env *Env, ref ObjectRef, n int32) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc, err := getScale(ctx, env, ref)
		if err != nil {
			return err
		}
		if sc.Spec.Replicas == n {
			return nil
		}
		sc.Spec.Replicas = n
		return updateScale(ctx, env, ref, sc)
	})
}

func getScale(ctx context.Context, env *Env, ref ObjectRef) (*autoscalingv1.Scale, error) {
	apps := env.Client.AppsV1()
	opts := metav1.GetOptions{}
	switch ref.Kind {
	case "Deployment":
		return apps.Deployments(ref.Namespace).GetScale(ctx, ref.Name, opts)
	case "StatefulSet":
		return apps.StatefulSets(ref.Namespace).GetScale(ctx, ref.Name, opts)
	default:
		return apps.ReplicaSets(ref.Namespace).GetScale(ctx, ref.Name, opts)
	}
}

func updateScale(ctx context.Context, env *Env, ref ObjectRef, sc *autoscalingv1.Scale) error {
	apps := env.Client.AppsV1()
	opts := metav1.UpdateOptions{FieldManager: fieldManager}
	var err error
	switch ref.Kind {
	case "Deployment":
		_, err = apps.Deployments(ref.Namespace).UpdateScale(ctx, ref.Name, sc, opts)
	case "StatefulSet":
		_, err = apps.StatefulSets(ref.Namespace).UpdateScale(ctx, ref.Name, sc, opts)
	default:
		_, err = apps.ReplicaSets(ref.Namespace).UpdateScale(ctx, ref.Name, sc, opts)
	}
	return err
}

// targetError explains a target that cannot be read: a missing one is the user's input.
func targetError(ref ObjectRef, err error) error {
	if apierrors.IsNotFound(err) {
		return atParam("target", errs.Invalidf("check the name with `kubectl get "+lower(ref.Kind)+" -n "+ref.Namespace+"`",
			"%s does not exist", ref))
	}
	return fmt.Errorf("reading %s: %w", ref, err)
}
