package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudnativelab/lab/internal/delivery"
)

// The annotations a fault's targets carry while it lasts, so that `kubectl describe`
// shows what is broken on purpose, by which journal entry, and until when.
const (
	AnnotationID    = "lab.cloudnativelab.io/chaos-id"
	AnnotationFault = "lab.cloudnativelab.io/chaos-fault"
	AnnotationSince = "lab.cloudnativelab.io/chaos-since"
	AnnotationUntil = "lab.cloudnativelab.io/chaos-until"
	// LabelID marks the objects a fault creates (hog pods, VirtualServices), to find
	// and delete them on revert.
	LabelID = "lab.cloudnativelab.io/chaos-id"
	// AnnotationRestartedAt on a pod template restarts a ConfigMap's consumers; the
	// revert removes it, which restores the template exactly (and restarts them again,
	// onto the restored value).
	AnnotationRestartedAt = "lab.cloudnativelab.io/chaos-restarted-at"
)

// resources maps the kinds faults touch to their API resources, for the metadata
// client, which annotates any of them the same way.
var resources = map[string]schema.GroupVersionResource{
	"Deployment":  {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet": {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"ReplicaSet":  {Group: "apps", Version: "v1", Resource: "replicasets"},
	"DaemonSet":   {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"ConfigMap":   {Version: "v1", Resource: "configmaps"},
	"Secret":      {Version: "v1", Resource: "secrets"},
	"Service":     {Version: "v1", Resource: "services"},
	"Pod":         {Version: "v1", Resource: "pods"},
	"Node":        {Version: "v1", Resource: "nodes"},
	"Job":         {Group: "batch", Version: "v1", Resource: "jobs"},
	"Rollout":     delivery.RolloutsResource,
}

func metadataClient(env *Env, ref ObjectRef) (metadataGetPatcher, error) {
	gvr, ok := resources[ref.Kind]
	if !ok {
		return nil, fmt.Errorf("lab chaos does not annotate %s objects", ref.Kind)
	}
	if ref.Namespace == "" {
		return env.Metadata.Resource(gvr), nil
	}
	return env.Metadata.Resource(gvr).Namespace(ref.Namespace), nil
}

type metadataGetPatcher interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions, subresources ...string) (*metav1.PartialObjectMetadata, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*metav1.PartialObjectMetadata, error)
}

// markAnnotations are the annotations of an entry's targets.
func markAnnotations(e *Entry) map[string]any {
	until := "until reverted"
	if e.ExpiresAt != nil {
		until = e.ExpiresAt.UTC().Format(time.RFC3339)
	}
	since := e.CreatedAt.UTC().Format(time.RFC3339)
	return map[string]any{AnnotationID: e.ID, AnnotationFault: e.Fault, AnnotationSince: since, AnnotationUntil: until}
}

// unmarkAnnotations deletes them in a merge patch.
func unmarkAnnotations() map[string]any {
	return map[string]any{AnnotationID: nil, AnnotationFault: nil, AnnotationSince: nil, AnnotationUntil: nil}
}

func metadataPatch(annotations map[string]any) []byte {
	data, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	return data
}

// mark annotates a target with the entry.
func mark(ctx context.Context, env *Env, ref ObjectRef, e *Entry) error {
	c, err := metadataClient(env, ref)
	if err != nil {
		return err
	}
	_, err = c.Patch(ctx, ref.Name, types.MergePatchType, metadataPatch(markAnnotations(e)), metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil {
		return fmt.Errorf("annotating %s: %w", ref, err)
	}
	return nil
}

// unmark removes the entry's annotations from a target, only if they are this entry's:
// a later fault on the same object keeps its own. A target that is gone is fine.
func unmark(ctx context.Context, env *Env, ref ObjectRef, id string) error {
	c, err := metadataClient(env, ref)
	if err != nil {
		return err
	}
	obj, err := c.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", ref, err)
	}
	if obj.Annotations[AnnotationID] != id {
		return nil
	}
	_, err = c.Patch(ctx, ref.Name, types.MergePatchType, metadataPatch(unmarkAnnotations()), metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the chaos annotations of %s: %w", ref, err)
	}
	return nil
}

// activeFaultOn is the id of the chaos entry an object's annotations name, if any.
func activeFaultOn(ctx context.Context, env *Env, ref ObjectRef) (string, error) {
	c, err := metadataClient(env, ref)
	if err != nil {
		return "", err
	}
	obj, err := c.Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return obj.Annotations[AnnotationID], nil
}

// fieldManager names lab in managedFields, so `kubectl get -o yaml --show-managed-fields`
// tells lab's changes from the user's.
const fieldManager = "lab-chaos"
