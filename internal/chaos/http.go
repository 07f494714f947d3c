package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"

	"github.com/cloudnativelab/lab/internal/errs"
)

// httpFault delays or aborts HTTP requests to a Service through an Istio VirtualService
// (http-delay, http-abort). It needs the target in the mesh: without Envoy next to the
// pods, a VirtualService changes nothing, and saying so beats a fault that silently does
// nothing.
type httpFault struct{ name string }

const istioGroup = "networking.istio.io"

// istioVersions are the VirtualService versions lab writes, newest first.
var istioVersions = []string{"v1", "v1beta1", "v1alpha3"}

func (f httpFault) Name() string { return f.name }
func (f httpFault) Summary() string {
	if f.name == "http-abort" {
		return "answer requests to a Service with an HTTP error through an Istio VirtualService (target in the mesh)"
	}
	return "delay requests to a Service through an Istio VirtualService (target in the mesh)"
}
func (f httpFault) Params() []string {
	if f.name == "http-abort" {
		return []string{"namespace", "target", "abortStatus", "percent"}
	}
	return []string{"namespace", "target", "delay", "percent"}
}

func (f httpFault) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkNamespace(p, &errs)
	checkRequired(p, &errs, "target")
	checkTarget(p, &errs, "Service")
	checkPercent(p, &errs)
	if f.name == "http-delay" {
		checkRequired(p, &errs, "delay")
		if p.given("delay") && p.Delay <= 0 {
			errs.add("delay", "must be more than zero, got %s", p.Delay)
		}
	}
	if p.given("abortStatus") && (p.AbortStatus < 200 || p.AbortStatus > 599) {
		errs.add("abortStatus", "must be an HTTP status between 200 and 599, got %d", p.AbortStatus)
	}
	return errs
}

// Support needs Istio's VirtualService API; whether the target is in the mesh is
// checked by Plan, which knows the target.
func (f httpFault) Support(ctx context.Context, env *Env) Support {
	if _, err := virtualServiceVersion(ctx, env); err != nil {
		return unsupportedBy(err.Error())
	}
	if env.Lab.Simulated {
		return limited("on sim no Envoy runs: the VirtualService really changes, but no request is " + f.effect())
	}
	return supported()
}

func (f httpFault) effect() string {
	if f.name == "http-abort" {
		return "aborted"
	}
	return "delayed"
}

// virtualServiceVersion finds the VirtualService API the cluster serves.
func virtualServiceVersion(ctx context.Context, env *Env) (schema.GroupVersionResource, error) {
	for _, v := range istioVersions {
		list, err := env.Client.Discovery().ServerResourcesForGroupVersion(istioGroup + "/" + v)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if r.Name == "virtualservices" {
				return schema.GroupVersionResource{Group: istioGroup, Version: v, Resource: "virtualservices"}, nil
			}
		}
	}
	return schema.GroupVersionResource{}, fmt.Errorf("Istio is not installed: the cluster serves no VirtualService API (%s), which http faults act through; the mesh stack will bring it", istioGroup)
}

type httpData struct {
	Service   ObjectRef `json:"service"`
	Version   string    `json:"version"`
	Fault     any       `json:"fault"`
	Existing  string    `json:"existing,omitempty"` // a VirtualService of the user's, edited
	Original  []any     `json:"original,omitempty"` // its spec.http as it was
	CreatedVS string    `json:"createdVS,omitempty"`
}

func (f httpFault) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	_, name, _ := parseTarget(p.Target, "Service")
	svc := ObjectRef{Kind: "Service", Namespace: namespaceOr(p), Name: name}
	if err := guardNamespace(ctx, env, svc.Namespace, lim); err != nil {
		return nil, err
	}
	gvr, err := virtualServiceVersion(ctx, env)
	if err != nil {
		return nil, errs.Invalidf("", "%s is unsupported here: %v", f.name, err)
	}
	if err := inMesh(ctx, env, svc); err != nil {
		return nil, err
	}
	d := &httpData{Service: svc, Version: gvr.Version, Fault: f.faultSpec(p)}
	vs, err := findVirtualService(ctx, env, gvr, svc)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Fault: f.Name(), Targets: []ObjectRef{svc}, data: d,
		Summary: fmt.Sprintf("%s requests to %s (%s)", f.effect(), svc, f.describe(p))}
	if vs != nil {
		d.Existing = vs.GetName()
		d.Original, _, _ = unstructured.NestedSlice(vs.Object, "spec", "http")
		plan.Changes = append(plan.Changes, Change{Action: "edit", ObjectRef: ObjectRef{Kind: "VirtualService", Namespace: svc.Namespace, Name: vs.GetName()},
			Detail: "fault added to each HTTP route"})
	} else {
		plan.Changes = append(plan.Changes, Change{Action: "create", ObjectRef: ObjectRef{Kind: "VirtualService", Namespace: svc.Namespace, Name: "lab-chaos-<id>"},
			Detail: "routes " + svc.Name + " with the fault"})
	}
	plan.Changes = append(plan.Changes, Change{Action: "annotate", ObjectRef: svc, Detail: "marked while the fault lasts"})
	return plan, nil
}

func (f httpFault) describe(p Params) string {
	pct := p.Percent
	if pct == 0 {
		pct = 100
	}
	if f.name == "http-abort" {
		return fmt.Sprintf("HTTP %d for %d%% of requests", abortStatus(p), pct)
	}
	return fmt.Sprintf("%s for %d%% of requests", p.Delay, pct)
}

func abortStatus(p Params) int {
	if p.AbortStatus == 0 {
		return 503
	}
	return p.AbortStatus
}

// faultSpec is Istio's HTTPFaultInjection for the parameters.
func (f httpFault) faultSpec(p Params) map[string]any {
	pct := float64(p.Percent)
	if pct == 0 {
		pct = 100
	}
	percentage := map[string]any{"value": pct}
	if f.name == "http-abort" {
		return map[string]any{"abort": map[string]any{"httpStatus": int64(abortStatus(p)), "percentage": percentage}}
	}
	return map[string]any{"delay": map[string]any{"fixedDelay": p.Delay.String(), "percentage": percentage}}
}

// inMesh refuses a Service whose namespace is not labelled for sidecar injection and
// whose pods carry no istio-proxy container.
func inMesh(ctx context.Context, env *Env, svc ObjectRef) error {
	ns, err := env.Client.CoreV1().Namespaces().Get(ctx, svc.Namespace, metav1.GetOptions{})
	if err != nil {
		return targetError(ObjectRef{Kind: "Namespace", Name: svc.Namespace}, err)
	}
	if ns.Labels["istio-injection"] == "enabled" || ns.Labels["istio.io/rev"] != "" {
		return nil
	}
	s, err := env.Client.CoreV1().Services(svc.Namespace).Get(ctx, svc.Name, metav1.GetOptions{})
	if err != nil {
		return targetError(svc, err)
	}
	if len(s.Spec.Selector) > 0 {
		pods, err := env.Client.CoreV1().Pods(svc.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.Set(s.Spec.Selector).String()})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == "istio-proxy" }) {
				return nil
			}
		}
	}
	return errs.Invalidf("label the namespace with istio-injection=enabled and restart its pods, once the mesh stack is installed",
		"unsupported: %s is not in the mesh (namespace %s has no istio-injection=enabled label and its pods no istio-proxy sidecar), so a VirtualService would change nothing", svc, svc.Namespace)
}

// findVirtualService is the VirtualService of the namespace routing the Service, if any.
func findVirtualService(ctx context.Context, env *Env, gvr schema.GroupVersionResource, svc ObjectRef) (*unstructured.Unstructured, error) {
	list, err := env.Dynamic.Resource(gvr).Namespace(svc.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing VirtualServices in %s: %w", svc.Namespace, err)
	}
	names := []string{svc.Name, svc.Name + "." + svc.Namespace, svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"}
	for i := range list.Items {
		vs := &list.Items[i]
		if vs.GetLabels()[LabelID] != "" {
			continue // one of lab's own, from a fault not yet reverted
		}
		hosts, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "hosts")
		for _, h := range hosts {
			if slices.Contains(names, h) {
				return vs, nil
			}
		}
	}
	return nil, nil
}

func (f httpFault) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[httpData](e)
	if err != nil {
		return err
	}
	vsClient := env.Dynamic.Resource(schema.GroupVersionResource{Group: istioGroup, Version: d.Version, Resource: "virtualservices"}).Namespace(d.Service.Namespace)
	if d.Existing != "" {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			vs, err := vsClient.Get(ctx, d.Existing, metav1.GetOptions{})
			if err != nil {
				return err
			}
			routes := withFault(d.Original, d.Fault)
			if err := unstructured.SetNestedSlice(vs.Object, routes, "spec", "http"); err != nil {
				return err
			}
			_, err = vsClient.Update(ctx, vs, metav1.UpdateOptions{FieldManager: fieldManager})
			return err
		})
	}
	d.CreatedVS = "lab-chaos-" + e.ID
	if err := setData(e, d); err != nil {
		return err
	}
	vs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": istioGroup + "/" + d.Version, "kind": "VirtualService",
		"metadata": map[string]any{"name": d.CreatedVS, "namespace": d.Service.Namespace,
			"labels": map[string]any{LabelID: e.ID, managedByLabel: "lab"}},
		"spec": map[string]any{"hosts": []any{d.Service.Name}, "http": []any{map[string]any{
			"fault": d.Fault,
			"route": []any{map[string]any{"destination": map[string]any{"host": d.Service.Name}}},
		}}},
	}}
	_, err = vsClient.Create(ctx, vs, metav1.CreateOptions{FieldManager: fieldManager})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// withFault copies the routes with the fault set on each.
func withFault(routes []any, fault any) []any {
	out := make([]any, len(routes))
	for i, r := range routes {
		route, ok := r.(map[string]any)
		if !ok {
			out[i] = r
			continue
		}
		copied := make(map[string]any, len(route)+1)
		for k, v := range route {
			copied[k] = v
		}
		copied["fault"] = fault
		out[i] = copied
	}
	return out
}

func (f httpFault) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[httpData](e)
	if err != nil {
		return err
	}
	vsClient := env.Dynamic.Resource(schema.GroupVersionResource{Group: istioGroup, Version: d.Version, Resource: "virtualservices"}).Namespace(d.Service.Namespace)
	if d.Existing == "" {
		err := vsClient.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: labels.Set{LabelID: e.ID}.String()})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vs, err := vsClient.Get(ctx, d.Existing, metav1.GetOptions{})
		if err != nil {
			return err
		}
		current, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		if equality.Semantic.DeepEqual(current, d.Original) {
			return nil
		}
		if err := unstructured.SetNestedSlice(vs.Object, d.Original, "spec", "http"); err != nil {
			return err
		}
		_, err = vsClient.Update(ctx, vs, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
