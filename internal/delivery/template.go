package delivery

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"

	"github.com/cloudnativelab/lab/internal/errs"
)

// RevisionAnnotation is the controller's revision number of a rollout's current
// version.
const RevisionAnnotation = "rollout.argoproj.io/revision"

// Template is a rollout's pod template, what a new version changes.
type Template struct {
	Spec     corev1.PodTemplateSpec
	Revision string
	// Paused is spec.paused: no new version rolls out until it is resumed.
	Paused bool
}

// PodTemplate reads a rollout's pod template. A rollout that takes its template from
// a Deployment (workloadRef) has none of its own and is refused.
func (c *Client) PodTemplate(ctx context.Context, namespace, name string) (*Template, error) {
	obj, err := c.find(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	tpl, err := templateOf(obj)
	if err != nil {
		return nil, err
	}
	paused, _, _ := unstructured.NestedBool(obj.Object, "spec", "paused")
	return &Template{Spec: *tpl, Revision: obj.GetAnnotations()[RevisionAnnotation], Paused: paused}, nil
}

// UpdatePodTemplate changes a rollout's pod template, reading it again after a
// conflict; change returns false when there is nothing to write.
func (c *Client) UpdatePodTemplate(ctx context.Context, namespace, name string, change func(*corev1.PodTemplateSpec) bool) error {
	res := c.Dynamic.Resource(RolloutsResource).Namespace(namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := res.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err // a NotFound stays one: callers tell a deleted rollout apart
		}
		tpl, err := templateOf(obj)
		if err != nil || !change(tpl) {
			return err
		}
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tpl)
		if err != nil {
			return err
		}
		if err := unstructured.SetNestedMap(obj.Object, raw, "spec", "template"); err != nil {
			return err
		}
		_, err = res.Update(ctx, obj, metav1.UpdateOptions{FieldManager: "lab"})
		return err
	})
}

func templateOf(obj *unstructured.Unstructured) (*corev1.PodTemplateSpec, error) {
	raw, found, err := unstructured.NestedMap(obj.Object, "spec", "template")
	if err != nil {
		return nil, fmt.Errorf("rollout %s/%s: spec.template: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	if !found {
		return nil, errs.Invalidf("change the Deployment it names instead",
			"rollout %s/%s has no pod template of its own (it uses spec.workloadRef)", obj.GetNamespace(), obj.GetName())
	}
	var tpl corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &tpl); err != nil {
		return nil, fmt.Errorf("rollout %s/%s: spec.template: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return &tpl, nil
}
