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

// The bundled charts on a real (simulated) control plane: every release deployed and
// every pod Running and Ready, the outcome gate reported skipped, a second install
// upgrading nothing, and a removal leaving no object of the releases behind.
func TestDefaultCatalogOnASimCluster(t *testing.T) {
	t.Parallel()
	cat := Default()
	rec := &event.Recorder{}
	in := newInstaller(t, cat, rec)
	ctx := context.Background()
	names := []string{"monitoring", "demo-shop"}

	rels, err := in.Install(ctx, names)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if len(rels) != 2 || rels[0].Action != Installed || rels[1].Action != Installed {
		t.Fatalf("releases %+v, want monitoring and demo-shop installed", rels)
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
	clusterScoped := 0
	for _, o := range objs {
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
}
