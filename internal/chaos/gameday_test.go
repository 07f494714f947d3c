package chaos

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
)

// loadGameday reads a gameday written in a test, validated by the real CheckFault.
func loadGameday(t *testing.T, doc string) *spec.Gameday {
	t.Helper()
	g, err := spec.LoadGameday(t.Name()+".yaml", []byte(doc), CheckFault)
	if err != nil {
		t.Fatalf("gameday: %v\n%s", err, doc)
	}
	return g
}

// availableCheck is a steady state: the Deployment has all its replicas available.
func availableCheck(ns, name string, replicas int) string {
	return fmt.Sprintf(`      - id: %s-available
        timeout: 20s
        interval: 200ms
        resource:
          apiVersion: apps/v1
          kind: Deployment
          namespace: %s
          name: %s
          match: {status: {availableReplicas: %d, updatedReplicas: %d}}
`, name, ns, name, replicas, replicas)
}

// minReady makes a replaced pod count as available only after some seconds, so the
// dip a pod-kill causes lasts long enough for the probes to see it.
func minReady(seconds int32) deployOpt {
	return func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = seconds }
}

func TestGamedayMeasuresDetectionAndRecovery(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 3, minReady(2))
	before := specJSON(t, getDeployment(t, ns, "web").Spec)
	g := loadGameday(t, `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: web-drill}
spec:
  seed: 11
  steadyState:
    probeInterval: 200ms
    checks:
`+availableCheck(ns, "web", 3)+`
  timeline:
    - id: kill-two
      at: 0s
      type: pod-kill
      namespace: `+ns+`
      selector: app=web
      count: 2
      duration: 0s
    - id: scale-down
      at: 8s
      type: scale
      namespace: `+ns+`
      target: deployment/web
      replicas: 1
      duration: 2s
  recovery: {timeout: 1m}
  blastRadius: {maxPercent: 100}
`)
	exp := metrics.NewExporter()
	e := testEngine(nil)
	e.Metrics = exp
	l := simLab(t)
	rep, err := e.Gameday(context.Background(), l, GamedayOptions{Gameday: g, File: "web-drill.yaml"})
	if err != nil {
		t.Fatalf("gameday: %v\nreport: %+v", err, rep)
	}
	if rep.Outcome != GamedayPassed || !rep.Recovered || rep.Before.Summary.Passed != 1 || rep.Seed != 11 {
		t.Fatalf("report = %+v", rep)
	}
	for _, f := range rep.Faults {
		if f.Injected == nil || f.Reverted == nil || f.TimeToDetect == nil || f.TimeToRecover == nil {
			t.Fatalf("fault %s: injected %v reverted %v detected %v recovered %v", f.ID, f.Injected, f.Reverted, f.TimeToDetect, f.TimeToRecover)
		}
		if *f.TimeToRecover <= *f.TimeToDetect || !strings.Contains(f.DetectedBy, "web-available fail") {
			t.Errorf("fault %s: detected after %s by %q, recovered after %s", f.ID, *f.TimeToDetect, f.DetectedBy, *f.TimeToRecover)
		}
	}
	kill, scale := rep.Faults[0], rep.Faults[1]
	// minReadySeconds 2: the replaced pods are available about 2s after the kill (at
	// least 1s: Kubernetes stores the Ready transition with a precision of a second).
	if *kill.TimeToRecover < time.Second || len(kill.Victims) != 2 {
		t.Errorf("pod-kill recovered after %s with victims %v; want at least 1s and 2 victims", *kill.TimeToRecover, kill.Victims)
	}
	// The scale-down lasts 2s: it cannot recover before its revert.
	if *scale.TimeToRecover < 2*time.Second {
		t.Errorf("scale recovered after %s, before its revert at 2s", *scale.TimeToRecover)
	}
	for _, want := range []string{"inject", "probe-fail", "detect", "revert", "recover", "probe-pass"} {
		if !slices.ContainsFunc(rep.Timeline, func(m Moment) bool { return m.Event == want }) {
			t.Errorf("timeline lacks a %s moment: %+v", want, rep.Timeline)
		}
	}
	for _, f := range rep.Faults {
		assertReverted(t, l, f.Entry)
	}
	if after := specJSON(t, getDeployment(t, ns, "web").Spec); after != before {
		t.Errorf("deployment spec after the drill:\n%s\nwant\n%s", after, before)
	}
	if n := histogramCount(t, exp, metrics.DetectionSeconds); n != 2 {
		t.Errorf("%s observed %d times, want 2", metrics.DetectionSeconds, n)
	}
}

// TestGamedayAbortRevertsEverything: a probe failing beyond abort.failingFor stops the
// drill, reverts every active fault at once, skips the rest and says so.
func TestGamedayAbortRevertsEverything(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		abort  string
		reason string
	}{
		{name: "failing for too long", abort: "failingFor: 1s", reason: "the steady state has failed for 1s (abort.failingFor)"},
		{name: "an abort condition holds", abort: `when:
      - id: web-nearly-gone
        resource: {apiVersion: apps/v1, kind: Deployment, namespace: NS, name: web, match: {spec: {replicas: 0}}}`,
			reason: "abort condition holds: web-nearly-gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := namespace(t, nil)
			deploy(t, ns, "web", 3)
			deploy(t, ns, "api", 2)
			before := specJSON(t, getDeployment(t, ns, "web").Spec)
			beforeAPI := specJSON(t, getDeployment(t, ns, "api").Spec)
			g := loadGameday(t, `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: abort-drill}
spec:
  steadyState:
    probeInterval: 200ms
    checks:
`+availableCheck(ns, "web", 3)+`
  timeline:
    - {id: api-down, at: 0s, type: scale, namespace: `+ns+`, target: deployment/api, replicas: 1, duration: 10m}
    - {id: web-down, at: 0s, type: scale, namespace: `+ns+`, target: deployment/web, replicas: 0, duration: 10m}
    - {id: never, at: 9m, type: pod-kill, namespace: `+ns+`, selector: app=web}
  abort:
    `+strings.ReplaceAll(tt.abort, "NS", ns)+`
  recovery: {timeout: 1m}
  blastRadius: {maxPods: 5}
`)
			l := simLab(t)
			rep, err := testEngine(nil).Gameday(context.Background(), l, GamedayOptions{Gameday: g, File: "abort.yaml"})
			if errs.KindOf(err) != errs.ChecksFailed || !strings.Contains(err.Error(), "gameday aborted") {
				t.Fatalf("err = %v, want checks failed: aborted", err)
			}
			if rep.Outcome != GamedayAborted || !strings.Contains(rep.Reason, tt.reason) || !rep.Recovered {
				t.Fatalf("report: outcome %s, reason %q, recovered %v", rep.Outcome, rep.Reason, rep.Recovered)
			}
			api, web, never := rep.Faults[0], rep.Faults[1], rep.Faults[2]
			if api.Reverted == nil || web.Reverted == nil || !never.Skipped || never.Entry != "" {
				t.Fatalf("faults after abort: %+v", rep.Faults)
			}
			// The faults last 10m: a revert before that is the abort's.
			if *web.Reverted >= 10*time.Minute {
				t.Errorf("web-down reverted %s after the start: at its end, not at the abort", *web.Reverted)
			}
			if !slices.ContainsFunc(rep.Timeline, func(m Moment) bool { return m.Event == "abort" }) {
				t.Errorf("timeline does not show the abort: %+v", rep.Timeline)
			}
			entries, _ := Journal{Dir: l.JournalDir}.List()
			if len(entries) != 2 {
				t.Fatalf("%d journal entries, want 2", len(entries))
			}
			for _, e := range entries {
				if e.Open() {
					t.Errorf("entry %s still %s after the abort", e.ID, e.Phase)
				}
			}
			if specJSON(t, getDeployment(t, ns, "web").Spec) != before || specJSON(t, getDeployment(t, ns, "api").Spec) != beforeAPI {
				t.Error("a deployment's spec differs after the abort")
			}
		})
	}
}

// TestGamedaySeedReproducesTheVictims runs the same pod-kill drill twice on a
// StatefulSet, whose pods keep their names when replaced: the same seed must pick the
// same pods.
func TestGamedaySeedReproducesTheVictims(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	statefulSet(t, ns, "db", 5)
	drill := func(seed int64) []string {
		g := loadGameday(t, `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: seeded}
spec:
  steadyState:
    probeInterval: 200ms
    checks:
      - id: db-ready
        timeout: 1m
        interval: 200ms
        resource: {apiVersion: apps/v1, kind: StatefulSet, namespace: `+ns+`, name: db, match: {status: {readyReplicas: 5, availableReplicas: 5}}}
  timeline:
    - {at: 0s, type: pod-kill, namespace: `+ns+`, selector: app=db, count: 2, duration: 0s}
  recovery: {timeout: 1m}
`)
		rep, err := testEngine(nil).Gameday(context.Background(), simLab(t), GamedayOptions{Gameday: g, Seed: &seed})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if rep.Seed != seed || rep.Faults[0].Seed == nil || *rep.Faults[0].Seed != seed {
			t.Fatalf("seed %d reported as %d / %v", seed, rep.Seed, rep.Faults[0].Seed)
		}
		return rep.Faults[0].Victims
	}
	first := drill(42)
	if len(first) != 2 {
		t.Fatalf("victims %v", first)
	}
	if again := drill(42); !slices.Equal(again, first) {
		t.Fatalf("seed 42 killed %v, then %v", first, again)
	}
}

func statefulSet(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, ServiceName: name, PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:17"}}}},
		},
	}
	if _, err := shared.Client.AppsV1().StatefulSets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env := &Env{Client: shared.Client}
	if err := waitHealthy(context.Background(), env, []ObjectRef{{Kind: "StatefulSet", Namespace: ns, Name: name}}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestGamedayRefusesWhenTheHypothesisDoesNotHold(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 2)
	g := loadGameday(t, `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: wrong-hypothesis}
spec:
  steadyState:
    checks:
      - id: web-five
        timeout: 1s
        interval: 200ms
        resource: {apiVersion: apps/v1, kind: Deployment, namespace: `+ns+`, name: web, match: {status: {readyReplicas: 5}}}
  timeline:
    - {at: 0s, type: scale, namespace: `+ns+`, target: deployment/web, replicas: 0}
`)
	l := simLab(t)
	rep, err := testEngine(nil).Gameday(context.Background(), l, GamedayOptions{Gameday: g})
	if errs.KindOf(err) != errs.ChecksFailed || !strings.Contains(err.Error(), "no fault was injected") {
		t.Fatalf("err = %v", err)
	}
	if rep.Outcome != GamedayHypothesisFailed || rep.Faults[0].Injected != nil {
		t.Fatalf("report = %+v", rep)
	}
	if entries, _ := os.ReadDir(l.JournalDir); len(entries) != 0 {
		t.Errorf("journal entries written: %v", entries)
	}
	if r := *getDeployment(t, ns, "web").Spec.Replicas; r != 2 {
		t.Errorf("replicas = %d: the drill touched the cluster", r)
	}
}

// TestGamedayChecksEveryFaultBeforeTheFirst: a drill whose second fault the guard rails
// refuse is refused before anything is touched, at that fault's line, with every
// refusal at once.
func TestGamedayChecksEveryFaultBeforeTheFirst(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 3)
	before := specJSON(t, getDeployment(t, ns, "web").Spec)
	g := loadGameday(t, `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: too-far}
spec:
  steadyState:
    checks:
`+availableCheck(ns, "web", 3)+`
  timeline:
    - id: web-down
      at: 0s
      type: scale
      namespace: `+ns+`
      target: deployment/web
      replicas: 1
      duration: 1m
    - id: system-kill
      at: 10s
      type: pod-kill
      namespace: kube-system
    - id: web-huge
      at: 20s
      type: scale
      namespace: `+ns+`
      target: deployment/web
      replicas: 100000
    - id: web-again
      at: 30s
      type: scale
      namespace: `+ns+`
      target: deployment/web
      replicas: 0
    - id: ghost
      at: 2m
      type: bad-rollout
      namespace: `+ns+`
      target: deployment/ghost
`)
	l := simLab(t)
	rep, err := testEngine(nil).Gameday(context.Background(), l, GamedayOptions{Gameday: g, File: "too-far.yaml"})
	if errs.KindOf(err) != errs.Invalid || rep != nil {
		t.Fatalf("err = %v (kind %v), report %+v; want invalid input and no report", err, errs.KindOf(err), rep)
	}
	file := t.Name() + ".yaml"
	for _, want := range []string{
		file + ":28: spec.timeline[1].namespace: namespace kube-system is protected from chaos: it holds the cluster's own components (set spec.blastRadius.includeSystem: true to act on it anyway)",
		file + ":34: spec.timeline[2].replicas: scale would add 99997 pods to " + ns + "/deployment/web (3 -> 100000 replicas)",
		"set spec.blastRadius.beyondCapacity: true",
		file + ":35: spec.timeline[3]: web-again would act on " + ns + "/deployment/web while fault web-down (spec.timeline[0], from 0s for 1m0s) still holds it",
		file + ":45: spec.timeline[4].target: " + ns + "/deployment/ghost does not exist",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if !strings.Contains(errs.HintOf(err), "nothing was injected") {
		t.Errorf("hint = %q", errs.HintOf(err))
	}
	if entries, _ := os.ReadDir(l.JournalDir); len(entries) != 0 {
		t.Errorf("journal entries written: %v", entries)
	}
	if after := specJSON(t, getDeployment(t, ns, "web").Spec); after != before {
		t.Errorf("the first fault's target changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestGamedayFileErrorsComeFromTheFaults(t *testing.T) {
	t.Parallel()
	doc := `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: bad}
spec:
  steadyState:
    checks: [{id: up, resource: {apiVersion: v1, kind: Namespace, name: default}}]
  timeline:
    - at: 0s
      type: scale
      target: configmap/x
      count: 2
    - at: 1s
      type: pod-kil
`
	_, err := spec.LoadGameday("bad.yaml", []byte(doc), CheckFault)
	for _, want := range []string{
		`bad.yaml:10: spec.timeline[0].target: "configmap/x" is not a target here`,
		"bad.yaml:11: spec.timeline[0].count: does not apply to scale (it reads namespace target replicas)",
		"bad.yaml:8: spec.timeline[0].replicas: is required",
		`bad.yaml:13: spec.timeline[1].type: unknown fault "pod-kil"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors do not say %q:\n%v", want, err)
		}
	}
}

func histogramCount(t *testing.T, exp *metrics.Exporter, name string) uint64 {
	t.Helper()
	families := scrape(t, exp)
	var n uint64
	for _, m := range families[name].GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}
