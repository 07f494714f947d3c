package chaos

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

var (
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	vsGVR  = schema.GroupVersionResource{Group: istioGroup, Version: "v1", Resource: "virtualservices"}
)

// TestHTTPFaultsThroughAVirtualService installs Istio's VirtualService API (the CRD
// only: no Envoy runs on sim) and checks that http faults are unsupported without it,
// refused for a Service outside the mesh, and write and revert VirtualServices exactly.
// It is not parallel: the CRD is cluster-wide, and it is removed before the parallel
// tests, which expect no Istio, resume.
func TestHTTPFaultsThroughAVirtualService(t *testing.T) {
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	delay := params(spec.FaultParams{Target: "service/web", Delay: 2 * time.Second}, "namespace", "target", "delay")

	outside := namespace(t, nil)
	createService(t, outside)
	delay.Namespace = outside
	if _, _, _, err := e.Plan(ctx, l, RunOptions{Fault: "http-delay", Params: delay, Limits: DefaultLimits}); err == nil || !strings.Contains(err.Error(), "Istio is not installed") {
		t.Fatalf("without Istio: %v", err)
	}

	dyn := dynamic.NewForConfigOrDie(restConfig(t))
	installVirtualServiceCRD(t, dyn)
	if _, _, _, err := e.Plan(ctx, l, RunOptions{Fault: "http-delay", Params: delay, Limits: DefaultLimits}); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "is not in the mesh") {
		t.Fatalf("outside the mesh: %v", err)
	}

	mesh := namespace(t, map[string]string{"istio-injection": "enabled"})
	createService(t, mesh)
	delay.Namespace = mesh
	abort := params(spec.FaultParams{Namespace: mesh, Target: "svc/web", AbortStatus: 500, Percent: 50}, "namespace", "target", "abortStatus", "percent")

	t.Run("a VirtualService of lab's own, created and deleted", func(t *testing.T) {
		plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: "http-abort", Params: abort, Limits: DefaultLimits})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Support.Level != Limited || !strings.Contains(plan.Support.Reason, "no Envoy runs") {
			t.Errorf("support on sim = %+v, want limited", plan.Support)
		}
		entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := dyn.Resource(vsGVR).Namespace(mesh).Get(ctx, "lab-chaos-"+entry.ID, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		status, _, _ := unstructured.NestedInt64(vs.Object, "spec", "http", "0", "fault", "abort", "httpStatus")
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		fault := routes[0].(map[string]any)["fault"].(map[string]any)["abort"].(map[string]any)
		if fault["httpStatus"] != int64(500) || fault["percentage"].(map[string]any)["value"] != int64(50) {
			t.Errorf("fault = %v (status %d)", fault, status)
		}
		if err := e.Stop(ctx, env, f, entry); err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(vsGVR).Namespace(mesh).Get(ctx, "lab-chaos-"+entry.ID, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("lab's VirtualService after revert: %v", err)
		}
	})

	t.Run("the user's VirtualService, edited and restored exactly", func(t *testing.T) {
		user := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": istioGroup + "/v1", "kind": "VirtualService",
			"metadata": map[string]any{"name": "web-routes", "namespace": mesh},
			"spec": map[string]any{"hosts": []any{"web"}, "http": []any{
				map[string]any{"name": "canary", "match": []any{map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "1"}}}},
					"route": []any{map[string]any{"destination": map[string]any{"host": "web", "subset": "v2"}}}},
				map[string]any{"name": "default", "route": []any{map[string]any{"destination": map[string]any{"host": "web"}}}},
			}},
		}}
		created, err := dyn.Resource(vsGVR).Namespace(mesh).Create(ctx, user, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		before := specJSON(t, created.Object["spec"])
		plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: "http-delay", Params: delay, Limits: DefaultLimits})
		if err != nil {
			t.Fatal(err)
		}
		entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := dyn.Resource(vsGVR).Namespace(mesh).Get(ctx, "web-routes", metav1.GetOptions{})
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		for i, r := range routes {
			d, _, _ := unstructured.NestedString(r.(map[string]any), "fault", "delay", "fixedDelay")
			if d != "2s" {
				t.Errorf("route %d delay = %q, want 2s", i, d)
			}
		}
		if err := e.Stop(ctx, env, f, entry); err != nil {
			t.Fatal(err)
		}
		after, _ := dyn.Resource(vsGVR).Namespace(mesh).Get(ctx, "web-routes", metav1.GetOptions{})
		if got := specJSON(t, after.Object["spec"]); got != before {
			t.Errorf("spec after revert:\n%s\nwant\n%s", got, before)
		}
	})
}

func createService(t *testing.T, ns string) {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := shared.Client.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// installVirtualServiceCRD serves networking.istio.io/v1 VirtualServices until the
// test ends, then removes the API and waits until discovery no longer lists it.
func installVirtualServiceCRD(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "virtualservices." + istioGroup},
		"spec": map[string]any{
			"group": istioGroup, "scope": "Namespaced",
			"names": map[string]any{"plural": "virtualservices", "singular": "virtualservice", "kind": "VirtualService", "listKind": "VirtualServiceList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	ctx := context.Background()
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env := &Env{Client: shared.Client}
	served := func(want bool) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			_, err := virtualServiceVersion(ctx, env)
			return (err == nil) == want, nil
		}
	}
	t.Cleanup(func() {
		dyn.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{})
		if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, served(false)); err != nil {
			t.Errorf("the VirtualService API is still served after the test")
		}
	})
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, served(true)); err != nil {
		t.Fatal("the VirtualService API is not served")
	}
}
