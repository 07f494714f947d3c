package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// webStack is a stack of the stack package's small test chart, in a namespace named
// after it.
func webStack(name string, values map[string]any, dependsOn ...string) stack.Stack {
	return stack.Stack{
		Name: name, Namespace: name, DependsOn: dependsOn, Timeout: time.Minute,
		Charts: []stack.Chart{{Name: "web", Values: stack.ProfileValues(map[string]map[string]any{spec.ProfileLite: values, spec.ProfileFull: values})}},
	}
}

func testCatalog(stacks ...stack.Stack) *stack.Catalog {
	return &stack.Catalog{Stacks: stacks, Bundled: stack.ChartsFromDir(filepath.Join("..", "stack", "testdata", "charts"))}
}

// labWithStacks is a lab file for provider with the given stacks.
func labWithStacks(t *testing.T, name, provider string, stacks ...string) *spec.Lab {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata: {name: %s}
spec:
  cluster:
    provider: %s
    nodes: [{role: control-plane}, {role: worker}]
  stacks: [%s]
  profile: lite
`, name, provider, strings.Join(stacks, ", "))
	l, err := spec.LoadLab(name+".yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func labClient(t *testing.T, rec *Record) kubernetes.Interface {
	t.Helper()
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// releaseRevisions lists "revision=status" of a release from Helm's storage Secrets.
func releaseRevisions(t *testing.T, cs kubernetes.Interface, namespace, name string) []string {
	t.Helper()
	list, err := cs.CoreV1().Secrets(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
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

func runningPods(t *testing.T, cs kubernetes.Interface, namespace string) int {
	t.Helper()
	pods, err := cs.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}

func TestUpInstallsStacksAndASecondUpUpgradesNothing(t *testing.T) {
	t.Parallel()
	rec := &event.Recorder{}
	m := newManager(t, rec)
	app := webStack("up-app", nil, "up-base")
	app.Services = []stack.Service{{Name: "app-ui", Service: "up-app", Port: 9898,
		Login: &stack.Login{Secret: "up-app-admin", UserKey: "admin-user", PasswordKey: "admin-password"}}}
	extra := webStack("up-extra", nil)
	extra.Services = []stack.Service{{Name: "extra-ui", Service: "up-extra", Port: 9898}}
	m.Catalog = testCatalog(webStack("up-base", map[string]any{"replicas": 2}), app, extra)
	ctx := context.Background()
	cleanupLab(t, m, "stacks")

	res, err := m.Up(ctx, UpOptions{Lab: labWithStacks(t, "stacks", "sim", "up-app")})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	var installed []string
	for _, r := range res.Record.Stacks {
		installed = append(installed, fmt.Sprintf("%s:%s:%s:%d:%t", r.Stack, r.Chart, r.Version, r.Revision, len(r.ValuesDigest) == 64))
	}
	if want := []string{"up-base:web:0.1.0:1:true", "up-app:web:0.1.0:1:true"}; !slices.Equal(installed, want) {
		t.Fatalf("recorded releases %v, want %v", installed, want)
	}
	cs := labClient(t, res.Record)
	for ns, want := range map[string]int{"up-base": 2, "up-app": 1} {
		if got := runningPods(t, cs, ns); got != want {
			t.Errorf("%d pods Running in %s, want %d", got, ns, want)
		}
	}
	for _, step := range []string{"Installing up-base (web 0.1.0)", "Waiting for up-app to be ready"} {
		if !slices.ContainsFunc(rec.Events(), func(e event.Event) bool { return e.Step == step && e.Type == event.StepDone }) {
			t.Errorf("no step %q done", step)
		}
	}
	if !slices.ContainsFunc(rec.Events(), func(e event.Event) bool {
		return e.Type == event.Info && strings.Contains(e.Message, "request 30m CPU and 48 MiB of memory")
	}) {
		t.Error("the preflight did not report the stacks' footprint")
	}

	again, err := m.Up(ctx, UpOptions{Lab: labWithStacks(t, "stacks", "sim", "up-app")})
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if !again.AlreadyUp || len(again.Stacks) != 2 {
		t.Fatalf("second up = already %v, stacks %+v", again.AlreadyUp, again.Stacks)
	}
	for _, r := range again.Stacks {
		if r.Action != stack.Unchanged {
			t.Errorf("second up: %s was %s", r.Name, r.Action)
		}
		if revs := releaseRevisions(t, cs, r.Namespace, r.Name); !slices.Equal(revs, []string{"1=deployed"}) {
			t.Errorf("second up: %s revisions %v, want [1=deployed]", r.Name, revs)
		}
	}

	creds, err := m.Creds(ctx, "stacks", "app-ui")
	if err != nil || creds.User != "admin" || creds.Password != "s3cret" || creds.Secret != "up-app/up-app-admin" {
		t.Fatalf("creds = %+v, %v", creds, err)
	}
	err = m.Open(ctx, "stacks", "app-ui", OpenOptions{Ready: func(string) { t.Error("a port-forward was reported ready on a simulated lab") }})
	if errs.KindOf(err).ExitCode() != errs.ExitError || !strings.Contains(err.Error(), "simulated") || !strings.Contains(err.Error(), "no container runs") {
		t.Fatalf("open on a sim lab: %v, want a refusal saying why (exit 1)", err)
	}
	if err := m.Open(ctx, "stacks", "extra-ui", OpenOptions{}); errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.HintOf(err), "lab stacks add up-extra") {
		t.Fatalf("open of a stack the lab lacks: %v (hint %q)", err, errs.HintOf(err))
	}
	pod, port, err := kube.ServiceBackend(ctx, cs, "up-base", "up-base", 9898)
	if err != nil || port != 9898 || !strings.HasPrefix(pod, "up-base-") {
		t.Fatalf("the backend of service up-base: pod %q port %d, %v", pod, port, err)
	}

	added, err := m.AddStacks(ctx, "stacks", []string{"up-extra"}, StackOptions{})
	if err != nil || len(added) != 1 || added[0].Action != stack.Installed {
		t.Fatalf("stacks add = %+v, %v", added, err)
	}
	st, err := m.Status(ctx, "stacks")
	if err != nil || !slices.Equal(st.Stacks, []string{"up-app", "up-base", "up-extra"}) || len(st.Releases) != 3 {
		t.Fatalf("status stacks %v, releases %d, err %v", st.Stacks, len(st.Releases), err)
	}
	if err := m.RemoveStacks(ctx, "stacks", []string{"up-extra"}); err != nil {
		t.Fatalf("stacks remove: %v", err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "up-extra", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace up-extra is still there after remove: %v", err)
	}
	list, err := m.ListStacks(ctx, "stacks")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		wantInstalled := s.Name != "up-extra"
		if s.Installed != wantInstalled || (wantInstalled && (!s.Ready || s.Release != "deployed")) {
			t.Errorf("stacks list: %+v, want installed=%v and ready", s, wantInstalled)
		}
	}
}

func TestUpRefusesUnknownStacksBeforeCreatingAnything(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.Catalog = testCatalog(webStack("known", nil))
	_, err := m.Up(context.Background(), UpOptions{Lab: labWithStacks(t, "unknown", "sim", "known", "logging", "mesh"), Source: "labs/unknown.yaml"})
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("err = %v, want invalid input", err)
	}
	for _, want := range []string{"labs/unknown.yaml: spec.stacks", `"logging"`, `"mesh"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !strings.Contains(errs.HintOf(err), "known") {
		t.Errorf("hint %q does not list the catalog", errs.HintOf(err))
	}
	if names, _ := m.Names(); len(names) != 0 {
		t.Fatalf("a refused lab left records: %v", names)
	}
}

// The next tests adopt the package's shared cluster, which is cheaper than creating
// one; each uses namespaces of its own.

func TestUpWithAnUnschedulableStackFailsWithADiagnosis(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.UserKubeconfig = shared.KubeconfigPath
	greedy := map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "64Gi"}, "limits": map[string]any{"memory": "64Gi"}}}
	m.Catalog = testCatalog(webStack("lab-greedy", greedy))
	m.StackTimeout = 4 * time.Second
	ctx := context.Background()
	cleanupLab(t, m, "greedy")

	_, err := m.Up(ctx, UpOptions{Lab: labWithStacks(t, "greedy", "existing", "lab-greedy"), Context: "testenv"})
	if err == nil {
		t.Fatal("up with a stack needing 64Gi per pod on 16Gi nodes succeeded")
	}
	if code := errs.KindOf(err).ExitCode(); code != errs.ExitError {
		t.Errorf("exit code %d, want %d", code, errs.ExitError)
	}
	pods, _ := shared.Client.CoreV1().Pods("lab-greedy").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 1 {
		t.Fatalf("want one pending pod, got %d", len(pods.Items))
	}
	for _, want := range []string{"stack lab-greedy is not ready after 4s", pods.Items[0].Name, "Insufficient memory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("diagnosis lacks %q:\n%v", want, err)
		}
	}
	rec, _ := m.store().load("greedy")
	if rec == nil || rec.Phase != Ready || len(rec.Stacks) != 1 {
		t.Fatalf("record %+v: want the cluster Ready and the failed stack recorded, for `lab stacks remove`", rec)
	}
	if err := m.RemoveStacks(ctx, "greedy", []string{"lab-greedy"}); err != nil {
		t.Fatalf("removing the failed stack: %v", err)
	}
}

func TestAdoptedClusterDownUninstallsTheLabsReleases(t *testing.T) {
	t.Parallel()
	rec := &event.Recorder{}
	m := newManager(t, rec)
	m.UserKubeconfig = shared.KubeconfigPath
	web := webStack("adopted-web", nil)
	// The shared cluster is a sim cluster adopted as "existing": kwok fakes its nodes,
	// so lab must know that nothing runs and skip the gate, not wait on it.
	web.Outcome = &stack.Outcome{Description: "it answers", Service: "adopted-web", Port: 9898, Query: "up"}
	m.Catalog = testCatalog(web)
	ctx := context.Background()
	if _, err := m.Up(ctx, UpOptions{Lab: labWithStacks(t, "adopt-stacks", "existing", "adopted-web"), Context: "testenv"}); err != nil {
		t.Fatalf("up: %v", err)
	}
	if !slices.ContainsFunc(rec.Events(), func(e event.Event) bool {
		return e.Type == event.StepSkip && e.Message == stack.SimulatedOutcomeNote
	}) {
		t.Error("the outcome gate was not skipped on an adopted simulated cluster")
	}
	ns, err := shared.Client.CoreV1().Namespaces().Get(ctx, "adopted-web", metav1.GetOptions{})
	if err != nil || ns.Labels["lab.cloudnativelab.io/lab"] != "adopt-stacks" {
		t.Fatalf("namespace adopted-web not labelled for the lab: %v %v", ns, err)
	}
	if got := runningPods(t, shared.Client, "adopted-web"); got != 1 {
		t.Fatalf("%d pods Running, want 1", got)
	}
	if _, err := m.Down(ctx, "adopt-stacks"); err != nil {
		t.Fatalf("down: %v", err)
	}
	if revs := releaseRevisions(t, shared.Client, "adopted-web", "adopted-web"); len(revs) != 0 {
		t.Errorf("the release is still stored: %v", revs)
	}
	for _, kind := range []string{"deployment", "service", "configmap"} {
		var err error
		switch kind {
		case "deployment":
			_, err = shared.Client.AppsV1().Deployments("adopted-web").Get(ctx, "adopted-web", metav1.GetOptions{})
		case "service":
			_, err = shared.Client.CoreV1().Services("adopted-web").Get(ctx, "adopted-web", metav1.GetOptions{})
		case "configmap":
			_, err = shared.Client.CoreV1().ConfigMaps("adopted-web").Get(ctx, "adopted-web-message", metav1.GetOptions{})
		}
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s adopted-web is still there after down: %v", kind, err)
		}
	}
	if _, err := shared.Client.Discovery().ServerVersion(); err != nil {
		t.Fatalf("the adopted cluster no longer answers: %v", err)
	}
}

func TestOfflineUpNamesMissingChartsBeforeCreatingAnything(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.CacheDir = t.TempDir()
	m.Catalog = &stack.Catalog{Stacks: []stack.Stack{{Name: "remote", Namespace: "remote", Charts: []stack.Chart{
		{Name: "remote-chart", Repo: "https://charts.invalid", Version: "1.2.3", Digest: strings.Repeat("a", 64)},
	}}}}
	_, err := m.Up(context.Background(), UpOptions{Lab: labWithStacks(t, "offline", "sim", "remote"), Offline: true})
	if err == nil || !strings.Contains(err.Error(), "remote-chart-1.2.3") || !strings.Contains(errs.HintOf(err), "lab pull") {
		t.Fatalf("err = %v (hint %q), want the missing chart named and lab pull suggested", err, errs.HintOf(err))
	}
	if names, _ := m.Names(); len(names) != 0 {
		t.Fatalf("an offline up that could not install its stacks created labs: %v", names)
	}
}

// The default lab as `lab up` brings it up on a simulated cluster, with the charts
// bundled in lab: every release deployed, every pod Running, no upgrade on a second
// `lab up`, Grafana's generated password readable, `lab open` refused with its reason.
func TestDefaultLabWithTheBundledStacksOnSim(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.Catalog, m.CacheDir = stack.Default(), t.TempDir()
	def, err := spec.EmbeddedLab("default")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cleanupLab(t, m, "bundled")
	up := func() *UpResult {
		t.Helper()
		res, err := m.Up(ctx, UpOptions{Lab: def, Name: "bundled", Provider: "sim", Source: "embedded:default"})
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		return res
	}
	res := up()
	cs := labClient(t, res.Record)
	for _, ns := range []string{"monitoring", "demo-shop"} {
		if revs := releaseRevisions(t, cs, ns, ns); !slices.Equal(revs, []string{"1=deployed"}) {
			t.Errorf("release %s: %v, want [1=deployed]", ns, revs)
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) == 0 {
			t.Fatalf("no pods in %s: %v", ns, err)
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning {
				t.Errorf("pod %s/%s is %s", ns, p.Name, p.Status.Phase)
			}
		}
	}
	again := up()
	if !again.AlreadyUp || !allUnchanged(again.Stacks) || len(again.Stacks) != 2 {
		t.Fatalf("second up: already up %v, stacks %+v", again.AlreadyUp, again.Stacks)
	}
	for _, ns := range []string{"monitoring", "demo-shop"} {
		if revs := releaseRevisions(t, cs, ns, ns); !slices.Equal(revs, []string{"1=deployed"}) {
			t.Errorf("after the second up, release %s: %v, want [1=deployed]", ns, revs)
		}
	}
	creds, err := m.Creds(ctx, "bundled", "grafana")
	if err != nil || creds.User != "admin" || len(creds.Password) < 16 {
		t.Fatalf("creds grafana = %+v, %v", creds, err)
	}
	if err := m.Open(ctx, "bundled", "grafana", OpenOptions{}); errs.KindOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "simulated") {
		t.Fatalf("open grafana on sim: %v, want a refusal (exit 1) saying the lab is simulated", err)
	}
}
