package grade

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cloudnativelab/lab/internal/spec"
)

func (t *Targets) resourceProbe(r *spec.ResourceCheck) probe {
	ev := Evidence{Object: describeObjects(r), Expected: resourceExpected(r)}
	return func(ctx context.Context) observation {
		k, err := t.kube()
		if err != nil {
			return unavailable(ev, err)
		}
		client, namespaced, err := k.resourceFor(r)
		if err != nil {
			return errored(ev, "unknown kind", err)
		}
		if r.Name != "" {
			return checkObject(ctx, client, namespaced, r, ev)
		}
		return countObjects(ctx, client, namespaced, r, ev)
	}
}

// resourceFor maps apiVersion and kind to the API's resource. A kind the cluster does
// not know may be a CRD installed while the check polls, so the mapper's cache is
// dropped to look again next time.
func (k *Kube) resourceFor(r *spec.ResourceCheck) (dynamic.NamespaceableResourceInterface, bool, error) {
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return nil, false, err
	}
	mapping, err := k.Mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: r.Kind}, gv.Version)
	if err != nil {
		k.Mapper.Reset()
		if meta.IsNoMatchError(err) {
			return nil, false, fmt.Errorf("the cluster has no kind %s in %s (is its CRD installed?)", r.Kind, r.APIVersion)
		}
		return nil, false, describeAPIError(err)
	}
	return k.Dynamic.Resource(mapping.Resource), mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// checkObject gets the named object: not found is a failure (it may still appear), not
// allowed is an error.
func checkObject(ctx context.Context, client dynamic.NamespaceableResourceInterface, namespaced bool, r *spec.ResourceCheck, ev Evidence) observation {
	var getter dynamic.ResourceInterface = client
	if namespaced {
		getter = client.Namespace(namespaceOr(r.Namespace, "default"))
	}
	obj, err := getter.Get(ctx, r.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		ev.Actual = "not found"
		return failed(ev)
	case err != nil:
		return errored(ev, "not read", describeAPIError(err))
	}
	ev.Diff = objectDiff(obj, r)
	if len(ev.Diff) == 0 {
		ev.Actual = "exists and matches"
		if r.Match == nil && r.Condition == nil {
			ev.Actual = "exists"
		}
		return passed(ev)
	}
	ev.Actual = differing(ev.Diff)
	return failed(ev)
}

// differing names the fields of an object's differences, "spec.replicas differs" or "2
// fields differ: spec.replicas, status.readyReplicas", so that a one-line summary says
// which field to look at; the diff lines say what was expected and found.
func differing(diff []string) string {
	fields := make([]string, len(diff))
	for i, d := range diff {
		fields[i], _, _ = strings.Cut(d, ": ")
	}
	if len(fields) == 1 {
		return fields[0] + " differs"
	}
	return fmt.Sprintf("%d fields differ: %s", len(fields), strings.Join(fields, ", "))
}

// countObjects lists the objects of the selector and counts those that match.
func countObjects(ctx context.Context, client dynamic.NamespaceableResourceInterface, namespaced bool, r *spec.ResourceCheck, ev Evidence) observation {
	var lister dynamic.ResourceInterface = client
	if namespaced && r.Namespace != "" {
		lister = client.Namespace(r.Namespace)
	}
	list, err := lister.List(ctx, metav1.ListOptions{LabelSelector: r.Selector})
	if err != nil {
		return errored(ev, "not listed", describeAPIError(err))
	}
	matching := 0
	for i := range list.Items {
		obj := &list.Items[i]
		diff := objectDiff(obj, r)
		if len(diff) == 0 {
			matching++
			continue
		}
		if len(ev.Diff) < maxListed {
			ev.Diff = append(ev.Diff, objectName(obj)+": "+strings.Join(diff, "; "))
		}
	}
	ev.Actual = fmt.Sprintf("%d", matching)
	if r.Match != nil || r.Condition != nil {
		ev.Actual = fmt.Sprintf("%d (of %s found)", matching, plural(len(list.Items), "object"))
	}
	ok := compare(float64(matching), r.Count.Op, *r.Count.Value)
	if ok {
		ev.Diff = nil // the objects that do not match do not matter once the count holds
	}
	return verdict(ok, ev)
}

// objectDiff is how obj differs from the check's partial object and status condition.
func objectDiff(obj *unstructured.Unstructured, r *spec.ResourceCheck) []string {
	var diff []string
	if r.Match != nil {
		diff = diffPartial("", r.Match, obj.Object)
	}
	if r.Condition != nil {
		if d := conditionDiff(obj, r.Condition); d != "" {
			diff = append(diff, d)
		}
	}
	return diff
}

// conditionDiff compares the status condition of the check's type; "" when it holds.
func conditionDiff(obj *unstructured.Unstructured, want *spec.StatusCondition) string {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if !ok || fmt.Sprint(m["type"]) != want.Type {
			continue
		}
		status, reason := fmt.Sprint(m["status"]), stringField(m, "reason")
		switch {
		case status != want.Status:
			return fmt.Sprintf("condition %s: expected status %s, got %s%s", want.Type, want.Status, status, describeReason(reason, stringField(m, "message")))
		case want.Reason != "" && reason != want.Reason:
			return fmt.Sprintf("condition %s: expected reason %s, got %q", want.Type, want.Reason, reason)
		}
		return ""
	}
	return fmt.Sprintf("condition %s: expected status %s, got no condition of that type", want.Type, want.Status)
}

func stringField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func describeReason(reason, message string) string {
	switch {
	case reason != "" && message != "":
		return fmt.Sprintf(" (%s: %s)", reason, message)
	case reason != "":
		return " (" + reason + ")"
	}
	return ""
}

// describeAPIError says what an API error means for a check: missing permissions are
// named as such, since the fix (RBAC) is not in the graded work.
func describeAPIError(err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("RBAC denied: %s", apiMessage(err))
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("not authenticated: the kubeconfig's credentials were refused (%s)", apiMessage(err))
	}
	return err
}

func apiMessage(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok && s.Status().Message != "" {
		return s.Status().Message
	}
	return err.Error()
}

func resourceExpected(r *spec.ResourceCheck) string {
	var parts []string
	if r.Match != nil {
		parts = append(parts, "the fields of match")
	}
	if c := r.Condition; c != nil {
		s := "condition " + c.Type + "=" + c.Status
		if c.Reason != "" {
			s += " (reason " + c.Reason + ")"
		}
		parts = append(parts, s)
	}
	if r.Count != nil {
		s := "count " + r.Count.String()
		if len(parts) > 0 {
			s += " with " + strings.Join(parts, " and ")
		}
		return s
	}
	if len(parts) == 0 {
		return "exists"
	}
	return "exists with " + strings.Join(parts, " and ")
}

// describeObjects names what a resource check looks at: "Deployment shop/backend
// (apps/v1)", "Pods in shop with app=backend (v1)".
func describeObjects(r *spec.ResourceCheck) string {
	if r.Name != "" {
		name := r.Name
		if r.Namespace != "" {
			name = r.Namespace + "/" + name
		}
		return fmt.Sprintf("%s %s (%s)", r.Kind, name, r.APIVersion)
	}
	s := r.Kind + " objects"
	if r.Namespace != "" {
		s += " in " + r.Namespace
	}
	if r.Selector != "" {
		s += " with " + r.Selector
	}
	return s + " (" + r.APIVersion + ")"
}

func objectName(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns + "/" + obj.GetName()
	}
	return obj.GetName()
}

func namespaceOr(ns, fallback string) string {
	if ns == "" {
		return fallback
	}
	return ns
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
