package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/errs"
)

// badRollout rolls a Deployment, or an Argo Rollouts Rollout, to an image that cannot
// be pulled, a command that crashes, or extra arguments that make it misbehave; the
// revert puts back the recorded pod template. A Rollout's new version goes through its
// canary steps and analysis, which is what a gameday of progressive delivery drills.
type badRollout struct{}

const (
	// unpullableImage can never be pulled: .invalid is reserved (RFC 2606) and never
	// resolves, so the rollout fails the same way on every cluster and network.
	unpullableImage = "registry.invalid/lab-chaos/unpullable:0"
	revisionKey     = "deployment.kubernetes.io/revision"
)

// crashCommand exits at once, so the container restarts into CrashLoopBackOff.
var crashCommand = []string{"/bin/sh", "-c", "echo 'lab chaos: bad-rollout crashes this container on purpose' >&2; exit 1"}

func (badRollout) Name() string { return "bad-rollout" }
func (badRollout) Summary() string {
	return "roll a Deployment or an Argo Rollouts Rollout to an image that cannot be pulled (mode image), a command that crashes (mode crash) or extra arguments (mode args); revert restores the recorded pod template"
}
func (badRollout) Params() []string {
	return []string{"namespace", "target", "mode", "image", "args", "container"}
}

func (f badRollout) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkNamespace(p, &errs)
	checkRequired(p, &errs, "target")
	checkTarget(p, &errs, "Deployment", "Rollout")
	switch p.Mode {
	case "", "image", "crash", "args":
	default:
		errs.add("mode", "must be image, crash or args, got %q", p.Mode)
	}
	mode := p.Mode
	if mode == "" {
		mode = "image"
	}
	if p.given("image") && mode != "image" {
		errs.add("image", "applies to mode image, not %s", mode)
	}
	switch {
	case p.given("args") && mode != "args":
		errs.add("args", "applies to mode args, not %s", mode)
	case mode == "args" && len(p.Args) == 0:
		errs.add("args", "mode args needs the arguments to add, e.g. --args=--random-error=true")
	}
	return errs
}

func (badRollout) Support(_ context.Context, env *Env) Support {
	if env.Lab.Simulated {
		return limited("on sim the rollout is real (new ReplicaSet, new revision), but kwok pulls no image and runs no command: the new pods report Running anyway")
	}
	return supported()
}

type rolloutData struct {
	Target    ObjectRef `json:"target"`
	Container string    `json:"container"`
	Mode      string    `json:"mode"`
	Image     string    `json:"image,omitempty"`
	Args      []string  `json:"args,omitempty"`
	// Revision and Template are what the revert restores: the workload's own pod
	// template as it was, so its spec ends up exactly as before.
	Revision string                 `json:"revision"`
	Template corev1.PodTemplateSpec `json:"template"`
}

func (f badRollout) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	kind, name, _ := parseTarget(p.Target, "Deployment", "Rollout")
	ref := ObjectRef{Kind: kind, Namespace: namespaceOr(p), Name: name}
	if err := guardNamespace(ctx, env, ref.Namespace, lim); err != nil {
		return nil, err
	}
	w, err := readTemplate(ctx, env, ref)
	if err != nil {
		return nil, err
	}
	c, err := pickContainer(w.Spec.Spec.Containers, p.Container, ref)
	if err != nil {
		return nil, err
	}
	d := &rolloutData{Target: ref, Container: c.Name, Mode: p.Mode, Image: p.Image, Args: p.Args,
		Revision: w.Revision, Template: *w.Spec.DeepCopy()}
	if d.Mode == "" {
		d.Mode = "image"
	}
	if d.Mode == "image" && d.Image == "" {
		d.Image = unpullableImage
	}
	if w.Paused {
		return nil, errs.Invalidf("resume it first (kubectl rollout resume, or spec.paused: false)", "%s is paused: a rollout would not start", ref)
	}
	return &Plan{
		Fault:   f.Name(),
		Summary: fmt.Sprintf("roll %s to %s (revision %s is kept to roll back to)", ref, d.breakage(c), orDash(d.Revision)),
		Changes: []Change{{Action: "roll", ObjectRef: ref, Detail: "container " + c.Name + ": " + d.breakage(c)}},
		Targets: []ObjectRef{ref},
		Watch:   []ObjectRef{ref},
		data:    d,
	}, nil
}

// readTemplate reads the pod template of a Deployment or a Rollout.
func readTemplate(ctx context.Context, env *Env, ref ObjectRef) (*delivery.Template, error) {
	if ref.Kind == "Rollout" {
		w, err := env.rollouts().PodTemplate(ctx, ref.Namespace, ref.Name)
		if err != nil {
			return nil, atParam("target", err)
		}
		return w, nil
	}
	dep, err := env.Client.AppsV1().Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, targetError(ref, err)
	}
	return &delivery.Template{Spec: dep.Spec.Template, Revision: dep.Annotations[revisionKey], Paused: dep.Spec.Paused}, nil
}

// updateTemplate reads, changes and writes the pod template of a Deployment or a
// Rollout, again on a conflict; change returns false when there is nothing to write.
func updateTemplate(ctx context.Context, env *Env, ref ObjectRef, change func(*corev1.PodTemplateSpec) bool) error {
	if ref.Kind == "Rollout" {
		return env.rollouts().UpdatePodTemplate(ctx, ref.Namespace, ref.Name, change)
	}
	return updateDeployment(ctx, env, ref, func(dep *appsv1.Deployment) bool { return change(&dep.Spec.Template) })
}

func (d *rolloutData) breakage(c *corev1.Container) string {
	switch d.Mode {
	case "crash":
		return "a command that exits 1"
	case "args":
		return "arguments " + strings.Join(d.Args, " ") + " added"
	}
	return fmt.Sprintf("image %s -> %s", c.Image, d.Image)
}

func pickContainer(cs []corev1.Container, name string, ref ObjectRef) (*corev1.Container, error) {
	if name == "" && len(cs) > 0 {
		return &cs[0], nil
	}
	names := make([]string, len(cs))
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i], nil
		}
		names[i] = cs[i].Name
	}
	return nil, atParam("container", errs.Invalidf("", "%s has no container %q (it has %s)", ref, name, strings.Join(names, ", ")))
}

func (badRollout) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[rolloutData](e)
	if err != nil {
		return err
	}
	return updateTemplate(ctx, env, d.Target, func(tpl *corev1.PodTemplateSpec) bool {
		for i := range tpl.Spec.Containers {
			c := &tpl.Spec.Containers[i]
			if c.Name != d.Container {
				continue
			}
			switch d.Mode {
			case "crash":
				c.Command, c.Args = crashCommand, nil
			case "args":
				c.Args = append(c.Args, d.Args...)
			default:
				c.Image = d.Image
			}
			return true
		}
		return false
	})
}

// Revert puts the recorded template back, unless it is there already. A Rollout
// whose template matches its stable version again goes back to it at once, skipping
// its steps, as `kubectl argo rollouts undo` does.
func (badRollout) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[rolloutData](e)
	if err != nil {
		return err
	}
	err = updateTemplate(ctx, env, d.Target, func(tpl *corev1.PodTemplateSpec) bool {
		if equality.Semantic.DeepEqual(*tpl, d.Template) {
			return false
		}
		*tpl = *d.Template.DeepCopy()
		return true
	})
	if apierrors.IsNotFound(err) {
		env.Events.Warn(fmt.Sprintf("%s is gone: there is nothing to roll back", d.Target))
		return nil
	}
	if err == nil {
		env.Events.Info(fmt.Sprintf("%s rolled back to the pod template of revision %s", d.Target, orDash(d.Revision)))
	}
	return err
}

// updateDeployment reads, changes and writes a Deployment, again on a conflict; change
// returns false when there is nothing to write.
func updateDeployment(ctx context.Context, env *Env, ref ObjectRef, change func(*appsv1.Deployment) bool) error {
	deps := env.Client.AppsV1().Deployments(ref.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := deps.Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !change(dep) {
			return nil
		}
		_, err = deps.Update(ctx, dep, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
