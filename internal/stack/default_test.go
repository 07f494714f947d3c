package stack

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/event"
)

// The bundled charts on a real (simulated) control plane, every stack of the catalog:
// every release deployed and every pod Running and Ready (delivery's CRDs installed
// from crds/ and Established before its ClusterAnalysisTemplates), the outcome gate
// reported skipped, a second install upgrading nothing, and a removal leaving no object
// of the releases behind (but the CRDs, which Helm keeps).
func TestDefaultCatalogOnASimCluster(t *testing.T) {
	t.Parallel()
	cat := Default()
	rec := &event.Recorder{}
	in := newInstaller(t, cat, rec)
	ctx := context.Background()
	names := []string{"monitoring", "demo-shop", "delivery"}
	if got := cat.Names(); !slices.Equal(got, []string{"delivery", "demo-shop", "monitoring"}) {
		t.Fatalf("catalog %v: this test installs every stack, update names", got)
	}

	rels, err := in.Install(ctx, names)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if len(rels) != len(names) || slices.ContainsFunc(rels, func(r Release) bool { return r.Action != Installed }) {
		t.Fatalf("releases %+v, want %v installed", rels, names)
	}
	var objs []object
	for _, s := range cat.Stacks {
		if revs := helmRevisions(t, s.Namespace, s.Name); !slices.Equal(revs, []string{"1=deployed"}) {
			t.Errorf("release %s: revisions %v, want [1=deployed]", s.Name, revs)
		}
		pods, err := shared.Client.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) == 0 {
			t.Fatalf("no pods in %s (%v)", s.Namespace, err)
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning || !isPodReady(&p) {
				t.Errorf("pod %s/%s is %s, not Running and Ready", s.Namespace, p.Name, p.Status.Phase)
			}
		}
		o, err := in.releaseObjects(s, []string{s.Name})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	gate := slices.IndexFunc(rec.Events(), func(e event.Event) bool { return strings.HasPrefix(e.Step, "Checking monitoring") })
	if gate < 0 || rec.Events()[gate].Type != event.StepSkip || rec.Events()[gate].Message != SimulatedOutcomeNote {
		t.Errorf("the monitoring outcome gate was not reported skipped on a simulated cluster: %v", stepNames(rec.Events()))
	}

	again, err := in.Install(ctx, names)
	if err != nil {
		t.Fatalf("second install: %v", err)
	}
	for _, r := range again {
		if r.Action != Unchanged || r.Revision != 1 {
			t.Errorf("second install: %s %s at revision %d, want unchanged at 1", r.Name, r.Action, r.Revision)
		}
	}

	if err := in.Remove(ctx, names); err != nil {
		t.Fatalf("remove: %v", err)
	}
	clusterScoped, crds := 0, 0
	for _, o := range objs {
		if o.Kind == "CustomResourceDefinition" {
			crds++
			continue // Helm keeps the CRDs of crds/ on purpose: deleting them deletes every user's objects
		}
		if o.Namespace == "" {
			clusterScoped++
		}
		if exists, err := objectExists(ctx, in, o); err != nil || exists {
			t.Errorf("%s (namespace %q) is still there after remove (err %v)", o, o.Namespace, err)
		}
	}
	if clusterScoped == 0 {
		t.Error("the check covered no cluster-scoped object (the monitoring chart has ClusterRoles)")
	}
	if crds != 5 {
		t.Errorf("delivery's release has %d CRDs, want Argo Rollouts' 5", crds)
	}
}

// TestDefaultCatalogDelivery: the delivery stack is Argo Rollouts in its own namespace,
// after monitoring (its analysis queries Prometheus), with its dashboard to open, and
// no target of chaos.
func TestDefaultCatalogDelivery(t *testing.T) {
	t.Parallel()
	cat := Default()
	s, ok := cat.Get("delivery")
	if !ok {
		t.Fatalf("no stack delivery in %v", cat.Names())
	}
	if s.Namespace != "argo-rollouts" || !slices.Equal(s.DependsOn, []string{"monitoring"}) || s.ChaosTarget {
		t.Errorf("delivery: namespace %q, depends on %v, chaos target %v", s.Namespace, s.DependsOn, s.ChaosTarget)
	}
	for _, word := range []string{"canary", "blue/green", "analysis"} {
		if !strings.Contains(s.Description, word) {
			t.Errorf("description %q does not mention %s", s.Description, word)
		}
	}
	if len(s.Charts) != 1 || s.Charts[0].Name != "delivery" || !s.Charts[0].Bundled() {
		t.Errorf("charts %+v, want the bundled chart delivery", s.Charts)
	}
	st, svc, err := cat.FindService("rollouts")
	if err != nil || st.Name != "delivery" || svc.Service != "argo-rollouts-dashboard" || svc.Port != 3100 {
		t.Errorf("lab open rollouts: stack %s, service %+v, err %v", st.Name, svc, err)
	}
	order, err := cat.Resolve([]string{"delivery"})
	if err != nil || len(order) != 2 || order[0].Name != "monitoring" || order[1].Name != "delivery" {
		t.Errorf("Resolve(delivery) = %v, %v; want monitoring then delivery", order, err)
	}
}

// TestFootprintCountsARollout: the demo shop's backend as an Argo Rollouts Rollout
// (backend.rollout.enabled) asks for what it asked as a Deployment, and a canary
// with two replicas for twice its pod.
func TestFootprintCountsARollout(t *testing.T) {
	t.Parallel()
	footprint := func(backend map[string]any) StackFootprint {
		t.Helper()
		cat := Default()
		if backend != nil {
			cat = cat.WithValues(map[string]map[string]any{"demo-shop": {"backend": backend}})
		}
		fp, err := cat.Footprint([]string{"demo-shop"}, ProfileLite, 2, Source{})
		if err != nil {
			t.Fatal(err)
		}
		return fp.Total
	}
	deployment := footprint(nil)
	rollout := footprint(map[string]any{"rollout": map[string]any{"enabled": true}})
	if rollout != deployment {
		t.Errorf("as a Rollout the backend counts %+v, as a Deployment %+v", rollout, deployment)
	}
	two := footprint(map[string]any{"replicas": 2, "rollout": map[string]any{"enabled": true, "strategy": "blueGreen"}})
	if two.Pods != deployment.Pods+1 || two.MemoryRequestsBytes != deployment.MemoryRequestsBytes+32<<20 {
		t.Errorf("a blue/green backend of 2 replicas: %+v, want one more pod and 32Mi more than %+v", two, deployment)
	}
}
