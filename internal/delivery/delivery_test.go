package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
)

var nsCounter atomic.Int64

// newNamespace makes a namespace of the test's own, deleted when it ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("dl-%d-%d", time.Now().UnixNano()%100000, nsCounter.Add(1))
	ctx := context.Background()
	if _, err := shared.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

// rollout is a Rollout of two replicas whose pod template carries version, so that
// changing the version ships a new one.
func rollout(name, version, strategy string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: %[1]s}
spec:
  replicas: 2
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers:
        - name: app
          image: registry.example/shop/%[1]s:1
          env: [{name: VERSION, value: %[2]q}]
  strategy:
%[3]s`, name, version, strategy)
}

const canaryWithPause = `    canary:
      steps:
        - setWeight: 50
        - pause: {}
`

// waitFor polls the rollout until cond holds, failing with its last state (and the
// controller's log) after a minute and a half.
func waitFor(t *testing.T, ns, name, what string, cond func(*delivery.Rollout) bool) *delivery.Rollout {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var last *delivery.Rollout
	var lastErr error
	for {
		ro, err := client().Get(ctx, ns, name)
		if err == nil && cond(ro) {
			return ro
		}
		last, lastErr = ro, err
		select {
		case <-ctx.Done():
			t.Fatalf("rollout %s/%s: not %s: last %+v (err %v)\ncontroller log (tail):\n%s", ns, name, what, last, lastErr, tail(controller.Log(), 30))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func healthy(ro *delivery.Rollout) bool { return ro.Phase == delivery.PhaseHealthy && ro.Promoted() }

// check grades one rollout check against the cluster, once.
func check(t *testing.T, r spec.RolloutCheck) grade.Result {
	t.Helper()
	c := spec.Check{ID: "rollout", Rollout: &r, Timeout: time.Second, Interval: time.Second}
	c.Default()
	g := &grade.Grader{Targets: &grade.Targets{Kube: &grade.Kube{Clients: clients}}}
	return g.Run(context.Background(), "test", []spec.Check{c}).Checks[0]
}

func TestCanaryPausesThenPromotes(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	applyObject(t, delivery.RolloutsResource, ns, rollout("shop", "v1", canaryWithPause))
	first := waitFor(t, ns, "shop", "healthy at v1", healthy)

	applyObject(t, delivery.RolloutsResource, ns, rollout("shop", "v2", canaryWithPause))
	paused, err := client().WaitPaused(context.Background(), ns, "shop", 90*time.Second, 250*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if paused.Step == nil || *paused.Step != 1 || paused.Weight == nil || *paused.Weight != 50 {
		t.Errorf("paused at step %v weight %v, want step 1 (the pause) at weight 50", paused.Step, paused.Weight)
	}
	if !slices.Contains(paused.Paused, "CanaryPauseStep") || paused.Promoted() {
		t.Errorf("paused %v promoted %t, want CanaryPauseStep and not promoted", paused.Paused, paused.Promoted())
	}
	if paused.StableHash != first.StableHash {
		t.Errorf("stable version changed to %s during the canary (was %s)", paused.StableHash, first.StableHash)
	}
	roles := map[string]bool{}
	for _, rs := range paused.ReplicaSets {
		roles[rs.Role] = true
	}
	if !roles["stable"] || !roles["canary"] {
		t.Errorf("replica sets %+v: want a stable and a canary one", paused.ReplicaSets)
	}

	// The checks a scenario would write, before and after the judgment.
	if r := check(t, spec.RolloutCheck{Namespace: ns, Name: "shop", Phase: "Healthy"}); r.Outcome != grade.Fail ||
		!slices.Contains(r.Evidence.Diff, "phase: expected Healthy, got Paused") {
		t.Errorf("phase Healthy while paused: %s %v %s", r.Outcome, r.Evidence.Diff, r.Error)
	}
	if r := check(t, spec.RolloutCheck{Namespace: ns, Name: "shop", Phase: "Paused", Step: &spec.Comparison{Op: "==", Value: ptr(1.0)}}); r.Outcome != grade.Pass {
		t.Errorf("paused at step 1: %s %v %s", r.Outcome, r.Evidence.Diff, r.Error)
	}

	if _, err := client().Act(context.Background(), ns, "shop", delivery.ActionPromote); err != nil {
		t.Fatal(err)
	}
	done := waitFor(t, ns, "shop", "promoted to v2", healthy)
	if done.StableHash == first.StableHash {
		t.Errorf("stable is still the first version %s after promotion", first.StableHash)
	}
	if r := check(t, spec.RolloutCheck{Namespace: ns, Name: "shop", Phase: "Healthy", Promoted: ptr(true)}); r.Outcome != grade.Pass {
		t.Errorf("after promotion: %s %v %s", r.Outcome, r.Evidence.Diff, r.Error)
	}
}

func TestAbortKeepsStableThenRetry(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	applyObject(t, delivery.RolloutsResource, ns, rollout("cart", "v1", canaryWithPause))
	first := waitFor(t, ns, "cart", "healthy at v1", healthy)
	applyObject(t, delivery.RolloutsResource, ns, rollout("cart", "v2", canaryWithPause))
	if _, err := client().WaitPaused(context.Background(), ns, "cart", 90*time.Second, 250*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	if _, err := client().Act(context.Background(), ns, "cart", delivery.ActionAbort); err != nil {
		t.Fatal(err)
	}
	aborted := waitFor(t, ns, "cart", "aborted", func(ro *delivery.Rollout) bool {
		return ro.Aborted && ro.Phase == delivery.PhaseDegraded
	})
	if aborted.StableHash != first.StableHash {
		t.Errorf("stable %s after abort, want the first version %s", aborted.StableHash, first.StableHash)
	}
	if r := check(t, spec.RolloutCheck{Namespace: ns, Name: "cart", Aborted: ptr(true), Promoted: ptr(false)}); r.Outcome != grade.Pass {
		t.Errorf("aborted check: %s %v %s", r.Outcome, r.Evidence.Diff, r.Error)
	}

	if _, err := client().Act(context.Background(), ns, "cart", delivery.ActionRetry); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ns, "cart", "paused again after retry", func(ro *delivery.Rollout) bool {
		return !ro.Aborted && ro.Phase == delivery.PhasePaused
	})
}

func TestBlueGreenWaitsForJudgment(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	for _, svc := range []string{"web", "web-preview"} {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: svc}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
		if _, err := shared.Client.CoreV1().Services(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	blueGreen := `    blueGreen:
      activeService: web
      previewService: web-preview
      autoPromotionEnabled: false
`
	applyObject(t, delivery.RolloutsResource, ns, rollout("web", "v1", blueGreen))
	first := waitFor(t, ns, "web", "healthy at v1", healthy)
	applyObject(t, delivery.RolloutsResource, ns, rollout("web", "v2", blueGreen))
	paused, err := client().WaitPaused(context.Background(), ns, "web", 90*time.Second, 250*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if paused.Strategy != delivery.StrategyBlueGreen || !slices.Contains(paused.Paused, "BlueGreenPause") {
		t.Errorf("strategy %s paused %v, want blueGreen waiting with BlueGreenPause", paused.Strategy, paused.Paused)
	}
	if active := selectorHash(t, ns, "web"); active != first.StableHash {
		t.Errorf("active service selects %s before promotion, want the first version %s", active, first.StableHash)
	}
	if preview := selectorHash(t, ns, "web-preview"); preview != paused.CurrentHash {
		t.Errorf("preview service selects %s, want the new version %s", preview, paused.CurrentHash)
	}

	if _, err := client().Act(context.Background(), ns, "web", delivery.ActionPromote); err != nil {
		t.Fatal(err)
	}
	done := waitFor(t, ns, "web", "promoted", healthy)
	if active := selectorHash(t, ns, "web"); active != done.StableHash || active == first.StableHash {
		t.Errorf("active service selects %s after promotion, want the new version %s", active, done.StableHash)
	}
}

func selectorHash(t *testing.T, ns, svc string) string {
	t.Helper()
	s, err := shared.Client.CoreV1().Services(ns).Get(context.Background(), svc, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Spec.Selector["rollouts-pod-template-hash"]
}

func TestFindErrors(t *testing.T) {
	t.Parallel()
	a, b := newNamespace(t), newNamespace(t)
	for _, ns := range []string{a, b} {
		applyObject(t, delivery.RolloutsResource, ns, rollout("twin", "v1", canaryWithPause))
	}
	waitFor(t, a, "twin", "healthy", healthy)
	ctx := context.Background()
	tests := []struct {
		name, ns, rollout, action, want string
	}{
		{"missing in a namespace", a, "nope", "", "rollout " + a + "/nope not found"},
		{"missing everywhere", "", "nope", "", "no rollout named nope in any namespace"},
		{"in two namespaces", "", "twin", "", "rollout twin is in 2 namespaces"},
		{"retry without abort", a, "twin", delivery.ActionRetry, "is not aborted"},
		{"unknown action", a, "twin", "skip", `unknown rollout action "skip"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.action == "" {
				_, err = client().Get(ctx, tt.ns, tt.rollout)
			} else {
				_, err = client().Act(ctx, tt.ns, tt.rollout, tt.action)
			}
			var e *errs.Error
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &e) || e.Kind != errs.Invalid {
				t.Fatalf("err = %v, want an Invalid error containing %q", err, tt.want)
			}
		})
	}
	// Only a missing rollout is waited for (it may be created in a moment): an
	// ambiguous name is the caller's mistake, reported at once, not after the timeout.
	_, err := client().WaitPaused(ctx, "", "twin", time.Minute, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "is in 2 namespaces") {
		t.Errorf("WaitPaused of an ambiguous name: %v, want the ambiguity", err)
	}
}
