package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// shared is the package's real sim cluster; every test installs into namespaces of
// its own, so tests run in parallel.
var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

// loadTestChart loads a chart of testdata/charts from disk, as the binary loads its
// embedded ones.
var loadTestChart = ChartsFromDir(filepath.Join("testdata", "charts"))

func testCatalog(stacks ...Stack) *Catalog {
	return &Catalog{Stacks: stacks, Bundled: loadTestChart}
}

// webStack is a stack of the web test chart in a namespace named after it.
func webStack(name string, values map[string]any, dependsOn ...string) Stack {
	return Stack{
		Name: name, Namespace: name, DependsOn: dependsOn, Timeout: time.Minute,
		Charts: []Chart{{Name: "web", Values: ProfileValues(map[string]map[string]any{ProfileLite: values, ProfileFull: values})}},
	}
}

type installerOption func(*Options)

func newInstaller(t *testing.T, cat *Catalog, rec *event.Recorder, opts ...installerOption) *Installer {
	t.Helper()
	var sink event.Sink = event.Discard
	if rec != nil {
		sink = rec
	}
	o := Options{
		Kubeconfig: shared.Kubeconfig, Lab: "stacktest", Simulated: true,
		Source: Source{CacheDir: t.TempDir()}, Events: event.NewEmitter(sink),
	}
	for _, opt := range opts {
		opt(&o)
	}
	in, err := NewInstaller(cat, o)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// removeAtEnd uninstalls the stacks when the test ends, whatever happened.
func removeAtEnd(t *testing.T, in *Installer, names ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := in.Remove(ctx, names); err != nil {
			t.Errorf("cleanup: removing %v: %v", names, err)
		}
	})
}

// helmRevisions lists the revisions Helm stores for a release (one Secret each).
func helmRevisions(t *testing.T, namespace, name string) []string {
	t.Helper()
	list, err := shared.Client.CoreV1().Secrets(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range list.Items {
		out = append(out, s.Labels["version"]+"="+s.Labels["status"])
	}
	slices.Sort(out)
	return out
}

func assertPodsRunning(t *testing.T, namespace string, want int) {
	t.Helper()
	pods, err := shared.Client.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && isPodReady(&p) {
			running++
		}
	}
	if running != want {
		t.Fatalf("%d pods Running and Ready in %s, want %d", running, namespace, want)
	}
}

// stepTimes finds when a step started and ended in the recorded events.
func stepTimes(t *testing.T, events []event.Event, step string) (start, end time.Time) {
	t.Helper()
	for _, e := range events {
		if e.Step != step {
			continue
		}
		switch e.Type {
		case event.StepStart:
			start = e.Time
		case event.StepDone, event.StepSkip, event.StepFail:
			end = e.Time
		}
	}
	if start.IsZero() || end.IsZero() {
		t.Fatalf("step %q did not start and finish; events: %v", step, stepNames(events))
	}
	return start, end
}

func stepNames(events []event.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, string(e.Type)+":"+e.Step+e.Message)
	}
	return out
}

func TestInstallRespectsDependenciesAndRunsIndependentStacksConcurrently(t *testing.T) {
	t.Parallel()
	cat := testCatalog(
		webStack("dep-base", map[string]any{"replicas": 2}),
		webStack("dep-app", nil, "dep-base"),
		webStack("dep-side", nil),
	)
	rec := &event.Recorder{}
	in := newInstaller(t, cat, rec)
	removeAtEnd(t, in, "dep-app", "dep-side", "dep-base")

	rels, err := in.Install(context.Background(), []string{"dep-app", "dep-side"})
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	var got []string
	for _, r := range rels {
		got = append(got, r.Name+":"+r.Action)
	}
	slices.Sort(got)
	if want := []string{"dep-app:installed", "dep-base:installed", "dep-side:installed"}; !slices.Equal(got, want) {
		t.Fatalf("releases = %v, want %v (the dependency is installed too)", got, want)
	}
	events := rec.Events()
	_, baseReady := stepTimes(t, events, "Waiting for dep-base to be ready")
	appStart, _ := stepTimes(t, events, "Installing dep-app (web 0.1.0)")
	sideStart, _ := stepTimes(t, events, "Installing dep-side (web 0.1.0)")
	if appStart.Before(baseReady) {
		t.Errorf("dep-app started installing at %s, before its dependency dep-base was ready at %s", appStart, baseReady)
	}
	if !sideStart.Before(baseReady) {
		t.Errorf("dep-side (independent) started at %s, only after dep-base was ready at %s: not concurrent", sideStart, baseReady)
	}
	for ns, pods := range map[string]int{"dep-base": 2, "dep-app": 1, "dep-side": 1} {
		assertPodsRunning(t, ns, pods)
		if revs := helmRevisions(t, ns, ns); !slices.Equal(revs, []string{"1=deployed"}) {
			t.Errorf("release %s revisions = %v, want [1=deployed]", ns, revs)
		}
	}
	labelled, err := shared.Client.CoreV1().Namespaces().Get(context.Background(), "dep-app", metav1.GetOptions{})
	if err != nil || labelled.Labels[LabelLab] != "stacktest" {
		t.Errorf("namespace dep-app is not labelled with the lab (labels %v, err %v)", labelled.Labels, err)
	}
}

func TestSecondInstallIsANoOpAndChangedValuesUpgradeOnce(t *testing.T) {
	t.Parallel()
	values := map[string]any{"message": "first"}
	cat := testCatalog(webStack("idem", values))
	cat.Stacks[0].Charts[0].Values = func(string) (map[string]any, error) { return values, nil }
	in := newInstaller(t, cat, nil)
	removeAtEnd(t, in, "idem")
	ctx := context.Background()

	steps := []struct {
		name       string
		message    string
		wantAction string
		wantRevs   []string
	}{
		{name: "first install", message: "first", wantAction: Installed, wantRevs: []string{"1=deployed"}},
		{name: "same values", message: "first", wantAction: Unchanged, wantRevs: []string{"1=deployed"}},
		{name: "changed values", message: "second", wantAction: Upgraded, wantRevs: []string{"1=superseded", "2=deployed"}},
		{name: "same again", message: "second", wantAction: Unchanged, wantRevs: []string{"1=superseded", "2=deployed"}},
	}
	for _, step := range steps {
		values["message"] = step.message
		rels, err := in.Install(ctx, []string{"idem"})
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if len(rels) != 1 || rels[0].Action != step.wantAction {
			t.Fatalf("%s: releases %+v, want one %s", step.name, rels, step.wantAction)
		}
		if revs := helmRevisions(t, "idem", "idem"); !slices.Equal(revs, step.wantRevs) {
			t.Fatalf("%s: revisions %v, want %v", step.name, revs, step.wantRevs)
		}
	}
	cm, err := shared.Client.CoreV1().ConfigMaps("idem").Get(ctx, "idem-message", metav1.GetOptions{})
	if err != nil || cm.Data["message"] != "second" {
		t.Fatalf("the upgrade did not reach the cluster: configmap %v, err %v", cm.Data, err)
	}
}

func TestStuckPendingReleaseIsClearedAndReconciled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		upgrades int // upgrades before the release is made pending
		pending  release.Status
		wantRevs []string
	}{
		{name: "pend-inst", pending: release.StatusPendingInstall, wantRevs: []string{"1=deployed"}},
		{name: "pend-upg", upgrades: 1, pending: release.StatusPendingUpgrade, wantRevs: []string{"1=superseded", "2=superseded", "3=deployed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			message := "v0"
			cat := testCatalog(webStack(tt.name, nil))
			cat.Stacks[0].Charts[0].Values = func(string) (map[string]any, error) { return map[string]any{"message": message}, nil }
			rec := &event.Recorder{}
			in := newInstaller(t, cat, rec)
			removeAtEnd(t, in, tt.name)
			ctx := context.Background()
			for i := 0; i <= tt.upgrades; i++ {
				message = fmt.Sprintf("v%d", i)
				if _, err := in.Install(ctx, []string{tt.name}); err != nil {
					t.Fatal(err)
				}
			}
			// What a lab killed in the middle of Helm's work leaves: the last revision
			// marked pending in Helm's storage.
			cfg, err := in.c.helmConfig(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			last, err := cfg.Releases.Last(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			last.SetStatus(tt.pending, "simulated interruption")
			if err := cfg.Releases.Update(last); err != nil {
				t.Fatal(err)
			}

			rels, err := in.Install(ctx, []string{tt.name})
			if err != nil {
				t.Fatalf("install over a %s release: %v", tt.pending, err)
			}
			if rels[0].Action == Unchanged {
				t.Fatal("a pending release was reported unchanged")
			}
			if revs := helmRevisions(t, tt.name, tt.name); !slices.Equal(revs, tt.wantRevs) {
				t.Fatalf("revisions %v, want %v", revs, tt.wantRevs)
			}
			if !slices.ContainsFunc(rec.Events(), func(e event.Event) bool {
				return e.Type == event.Warn && strings.Contains(e.Message, string(tt.pending))
			}) {
				t.Errorf("no warning about clearing the %s release: %v", tt.pending, stepNames(rec.Events()))
			}
			assertPodsRunning(t, tt.name, 1)
		})
	}
}

func TestRemoveLeavesNoObjectOfTheReleaseBehind(t *testing.T) {
	t.Parallel()
	cat := testCatalog(webStack("gone", map[string]any{"replicas": 2}), Stack{
		Name: "gone-crd", Namespace: "gone-crd", Timeout: time.Minute, Charts: []Chart{{Name: "widgets"}},
	})
	in := newInstaller(t, cat, nil)
	ctx := context.Background()
	if _, err := in.Install(ctx, []string{"gone", "gone-crd"}); err != nil {
		t.Fatal(err)
	}
	var objs []object
	for _, s := range cat.Stacks {
		o, err := in.releaseObjects(s, []string{s.Name})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	if len(objs) < 5 {
		t.Fatalf("the releases have %d objects, want at least a Deployment, Service, ConfigMap, StatefulSet and Widget: %v", len(objs), objs)
	}
	assertPodsRunning(t, "gone", 2)

	if err := in.Remove(ctx, []string{"gone", "gone-crd"}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	for _, o := range objs {
		if o.Kind == "CustomResourceDefinition" {
			continue // Helm keeps the CRDs of crds/ on purpose: deleting them deletes every user's objects
		}
		if exists, err := objectExists(ctx, in, o); err != nil || exists {
			t.Errorf("%s in %s is still there after remove (err %v)", o, o.Namespace, err)
		}
	}
	for _, ns := range []string{"gone", "gone-crd"} {
		_, err := shared.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s is still there after remove (err %v)", ns, err)
		}
	}
	if err := in.Remove(ctx, []string{"gone"}); err != nil {
		t.Fatalf("removing what is not installed: %v", err)
	}
}

// objectExists asks the API server for o through the dynamic client.
func objectExists(ctx context.Context, in *Installer, o object) (bool, error) {
	gvk, err := parseGVK(o)
	if err != nil {
		return false, err
	}
	mapping, err := in.c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		in.c.Mapper.Reset()
		if mapping, err = in.c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return false, nil // the type itself is gone
		}
	}
	_, err = in.c.Dynamic.Resource(mapping.Resource).Namespace(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func TestUnschedulableStackFailsWithADiagnosis(t *testing.T) {
	t.Parallel()
	// Sim nodes have 16Gi allocatable: 64Gi cannot be scheduled anywhere.
	greedy := map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "64Gi"}, "limits": map[string]any{"memory": "64Gi"}}}
	cat := testCatalog(webStack("greedy", greedy))
	cat.Stacks[0].Timeout = 5 * time.Second
	in := newInstaller(t, cat, nil)
	removeAtEnd(t, in, "greedy")

	_, err := in.Install(context.Background(), []string{"greedy"})
	if err == nil {
		t.Fatal("a stack requesting 64Gi per pod installed on 16Gi nodes")
	}
	if errs.KindOf(err) != errs.Unavailable {
		t.Errorf("kind %v, want Unavailable (exit 1)", errs.KindOf(err))
	}
	pods, perr := shared.Client.CoreV1().Pods("greedy").List(context.Background(), metav1.ListOptions{})
	if perr != nil || len(pods.Items) != 1 {
		t.Fatalf("want one pending pod, got %v (err %v); error: %v", pods, perr, err)
	}
	msg := err.Error()
	t.Logf("diagnosis:\n%s\nhint: %s", msg, errs.HintOf(err))
	// "after 5s": the failure comes from the stack's own timeout, not a default one.
	for _, want := range []string{"stack greedy is not ready after 5s", "pod greedy/" + pods.Items[0].Name, "Pending", "Insufficient memory", "FailedScheduling"} {
		if !strings.Contains(msg, want) {
			t.Errorf("diagnosis lacks %q:\n%s", want, msg)
		}
	}
	if hint := errs.HintOf(err); !strings.Contains(hint, "memory") || !strings.Contains(hint, "lab footprint") {
		t.Errorf("hint %q does not say what to do about memory", hint)
	}
}

func TestDependentOfAFailedStackIsNotInstalled(t *testing.T) {
	t.Parallel()
	greedy := map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "64Gi"}, "limits": map[string]any{"memory": "64Gi"}}}
	cat := testCatalog(webStack("fail-base", greedy), webStack("fail-app", nil, "fail-base"))
	cat.Stacks[0].Timeout = 3 * time.Second
	in := newInstaller(t, cat, nil)
	removeAtEnd(t, in, "fail-app", "fail-base")
	_, err := in.Install(context.Background(), []string{"fail-app"})
	if err == nil || !strings.Contains(err.Error(), "stack fail-app was not installed: it depends on fail-base, which failed") {
		t.Fatalf("error = %v, want fail-app refused because fail-base failed", err)
	}
	if revs := helmRevisions(t, "fail-app", "fail-app"); len(revs) != 0 {
		t.Fatalf("fail-app was installed anyway: %v", revs)
	}
}

// After is an order only: the later stack starts once the earlier one is done, and
// installs even when that one failed.
func TestAfterOrdersWithoutDepending(t *testing.T) {
	t.Parallel()
	greedy := map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "64Gi"}, "limits": map[string]any{"memory": "64Gi"}}}
	first, later := webStack("after-first", greedy), webStack("after-later", nil)
	first.Timeout, later.After = 3*time.Second, []string{"after-first"}
	rec := &event.Recorder{}
	in := newInstaller(t, testCatalog(first, later), rec)
	removeAtEnd(t, in, "after-later", "after-first")
	_, err := in.Install(context.Background(), []string{"after-later", "after-first"})
	if err == nil || !strings.Contains(err.Error(), "after-first") || strings.Contains(err.Error(), "after-later") {
		t.Fatalf("error = %v, want after-first's failure alone", err)
	}
	if revs := helmRevisions(t, "after-later", "after-later"); !slices.Equal(revs, []string{"1=deployed"}) {
		t.Fatalf("after-later revisions = %v, want it installed despite after-first's failure", revs)
	}
	_, firstDone := stepTimes(t, rec.Events(), "Waiting for after-first to be ready")
	laterStart, _ := stepTimes(t, rec.Events(), "Installing after-later (web 0.1.0)")
	if laterStart.Before(firstDone) {
		t.Errorf("after-later started at %s, before after-first ended at %s", laterStart, firstDone)
	}
}

func TestCRDsAreEstablishedBeforeTheStackIsReady(t *testing.T) {
	t.Parallel()
	cat := testCatalog(Stack{Name: "crd", Namespace: "crd", Timeout: time.Minute, Charts: []Chart{{Name: "widgets"}}})
	in := newInstaller(t, cat, nil)
	// The CRD outlives the release (Helm never deletes crds/): a rerun finds it.
	removeAtEnd(t, in, "crd")
	if _, err := in.Install(context.Background(), []string{"crd"}); err != nil {
		t.Fatal(err)
	}
	ready, why, err := crdEstablished(context.Background(), in, object{Kind: "CustomResourceDefinition", Name: "widgets.test.cloudnativelab.io"})
	if err != nil || !ready {
		t.Fatalf("CRD not Established after install: %s %v", why, err)
	}
	assertPodsRunning(t, "crd", 1)
}

func TestSimulatedLabSkipsTheOutcomeGateAndSaysSo(t *testing.T) {
	t.Parallel()
	s := webStack("gate", nil)
	s.Outcome = &Outcome{Description: "Prometheus answers", Service: "gate", Port: 9898, Query: "up"}
	rec := &event.Recorder{}
	in := newInstaller(t, testCatalog(s), rec)
	removeAtEnd(t, in, "gate")
	if _, err := in.Install(context.Background(), []string{"gate"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range rec.Events() {
		if strings.HasPrefix(e.Step, "Checking gate") {
			if e.Type != event.StepSkip || e.Message != SimulatedOutcomeNote {
				t.Fatalf("outcome gate event %+v, want only a skip saying %q", e, SimulatedOutcomeNote)
			}
			return
		}
	}
	t.Fatalf("no event about the outcome gate: %v", stepNames(rec.Events()))
}

func parseGVK(o object) (schema.GroupVersionKind, error) {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	return gv.WithKind(o.Kind), err
}
