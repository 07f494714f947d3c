package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/existing"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/state"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// shared is the package's one sim cluster; the existing provider adopts it. The labs
// under test are sim clusters of their own, created and deleted by the engine.
var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

// newManager returns an engine on a private state dir and kubeconfig.
func newManager(t *testing.T, rec *event.Recorder) *Manager {
	t.Helper()
	dir := t.TempDir()
	var sink event.Sink = event.Discard
	if rec != nil {
		sink = rec
	}
	return &Manager{
		StateDir:        filepath.Join(dir, "state"),
		Providers:       map[string]cluster.Provider{"sim": sim.New(), "existing": existing.New()},
		DockerReachable: func(context.Context) error { return errors.New("no Docker in this test") },
		UserKubeconfig:  filepath.Join(dir, "kubeconfig"),
		LockWait:        time.Second,
		NodeTimeout:     time.Minute,
		Events:          event.NewEmitter(sink),
	}
}

func simLab(t *testing.T, name string, workers int) *spec.Lab {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata: {name: %s}
spec:
  cluster:
    provider: sim
    nodes: [{role: control-plane}, {role: worker, count: %d}]
`, name, workers)
	l, err := spec.LoadLab(name+".yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// down removes a lab at the end of a test, whatever happened.
func cleanupLab(t *testing.T, m *Manager, name string) {
	t.Cleanup(func() {
		if _, err := m.Down(context.Background(), name); err != nil {
			t.Errorf("cleanup: lab down %s: %v", name, err)
		}
	})
}

func TestUpThenDownLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	ctx := context.Background()
	res, err := m.Up(ctx, UpOptions{Lab: simLab(t, "full-cycle", 2)})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if res.AlreadyUp || res.Record.Phase != Ready || res.Record.Context != "lab-full-cycle" {
		t.Fatalf("up result = %+v", res)
	}
	st, err := m.Resolve(ctx, "full-cycle")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != cluster.Running || st.Nodes.Total != 3 || st.Nodes.Ready != 3 || !st.Simulated {
		t.Fatalf("status = %+v, want running with 3/3 Ready, simulated", st.Status)
	}
	if !st.Capabilities.Simulated || st.Adopted || st.HostPorts || st.Machines != nil || st.KubeconfigErr != nil || kube.ServerOf(st.AdminKubeconfig) == "" {
		t.Fatalf("resolved sim lab: capabilities %+v, kubeconfig error %v", st.Capabilities, st.KubeconfigErr)
	}
	if !kube.HasContext(m.UserKubeconfig, "lab-full-cycle") {
		t.Fatal("context lab-full-cycle missing from the user's kubeconfig")
	}
	assertPrivate(t, res.Record.Kubeconfig)
	assertPrivate(t, m.UserKubeconfig)
	pids := controlPlanePIDs(t, m, "full-cycle")
	if len(pids) < 4 {
		t.Fatalf("found %d control-plane pids, want etcd, apiserver, controller-manager, scheduler, kwok", len(pids))
	}

	down, err := m.Down(ctx, "full-cycle")
	if err != nil || !down.Existed {
		t.Fatalf("down = %+v, %v", down, err)
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
	if state.Exists(m.store().dir("full-cycle")) {
		t.Fatal("the lab's state dir is still there")
	}
	if kube.HasContext(m.UserKubeconfig, "lab-full-cycle") {
		t.Fatal("context lab-full-cycle is still in the user's kubeconfig")
	}
}

func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	ctx := context.Background()
	cleanupLab(t, m, "twice")
	if _, err := m.Up(ctx, UpOptions{Lab: simLab(t, "twice", 1)}); err != nil {
		t.Fatal(err)
	}
	before := controlPlanePIDs(t, m, "twice")
	res, err := m.Up(ctx, UpOptions{Lab: simLab(t, "twice", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AlreadyUp {
		t.Fatal("second up did not report already up")
	}
	if after := controlPlanePIDs(t, m, "twice"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("second up restarted the control plane: pids %v -> %v", before, after)
	}
}

// TestUpRepairsADegradedLab: a lab whose kwok controller died still answers, but its
// nodes go NotReady. Status says what is wrong, and `lab up` starts what stopped.
func TestUpRepairsADegradedLab(t *testing.T) {
	t.Parallel()
	rec := &event.Recorder{}
	m := newManager(t, rec)
	ctx := context.Background()
	cleanupLab(t, m, "degraded")
	if _, err := m.Up(ctx, UpOptions{Lab: simLab(t, "degraded", 1)}); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(m.store().workDir("degraded"), "kwok", "clusters", "lab-degraded", "pids", "kwok-controller.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	st, err := m.Status(ctx, "degraded")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.Note, "not running: kwok-controller") || !strings.Contains(st.Hint, "`lab up --name degraded` repairs it") {
		t.Fatalf("status note = %q, hint = %q, want the stopped component and the repair named", st.Note, st.Hint)
	}
	res, err := m.Up(ctx, UpOptions{Lab: simLab(t, "degraded", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyUp || !rec.Said(`lab "degraded" is degraded`) {
		t.Fatalf("up of a degraded lab: alreadyUp=%v, events %+v", res.AlreadyUp, rec.Events())
	}
	st, _ = m.Status(ctx, "degraded")
	if strings.Contains(st.Note, "not running") || st.Nodes.Ready != 2 {
		t.Fatalf("after repair: note %q, nodes %+v", st.Note, st.Nodes)
	}
}

func TestUpRefusesAChangedClusterAndRecreates(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	ctx := context.Background()
	cleanupLab(t, m, "reshape")
	if _, err := m.Up(ctx, UpOptions{Lab: simLab(t, "reshape", 1)}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Up(ctx, UpOptions{Lab: simLab(t, "reshape", 2)})
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("changed node count: err = %v, want invalid input", err)
	}
	for _, want := range []string{`lab "reshape" exists with a different cluster`, "nodes:", "1 control-plane + 1 worker", "2 workers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if !strings.Contains(errs.HintOf(err), "--recreate") {
		t.Errorf("hint %q does not suggest --recreate", errs.HintOf(err))
	}
	if st, _ := m.Status(ctx, "reshape"); st.Nodes.Total != 2 {
		t.Fatalf("refused change touched the cluster: %d nodes", st.Nodes.Total)
	}

	asked := ""
	res, err := m.Up(ctx, UpOptions{Lab: simLab(t, "reshape", 2), Recreate: true,
		Confirm: func(q string) (bool, error) { asked = q; return true, nil }})
	if err != nil || res.AlreadyUp {
		t.Fatalf("recreate = %+v, %v", res, err)
	}
	if !strings.Contains(asked, "Delete lab \"reshape\"") {
		t.Errorf("confirmation asked %q", asked)
	}
	if st, _ := m.Status(ctx, "reshape"); st.Nodes.Total != 3 || st.Nodes.Ready != 3 {
		t.Fatalf("after recreate: %+v", st.Nodes)
	}
}

func TestUpCompletesAnInterruptedUp(t *testing.T) {
	t.Parallel()
	// Cancel as soon as the cluster is being created: kwokctl is killed mid-way.
	ctx, cancel := context.WithCancel(context.Background())
	m := newManager(t, nil)
	m.Events = event.NewEmitter(cancelOn{step: "Creating cluster (sim)", cancel: cancel, after: 700 * time.Millisecond})
	cleanupLab(t, m, "interrupted")
	_, err := m.Up(ctx, UpOptions{Lab: simLab(t, "interrupted", 1)})
	if errs.KindOf(err) != errs.Interrupted {
		t.Fatalf("interrupted up: err = %v, want interrupted", err)
	}
	if !strings.Contains(errs.HintOf(err), "lab up") {
		t.Errorf("hint %q does not say how to finish", errs.HintOf(err))
	}
	rec, _ := m.store().load("interrupted")
	if rec == nil || rec.Phase != Creating {
		t.Fatalf("record after interruption = %+v, want phase Creating", rec)
	}

	m.Events = event.NewEmitter(nil)
	res, err := m.Up(context.Background(), UpOptions{Lab: simLab(t, "interrupted", 1)})
	if err != nil {
		t.Fatalf("up after interruption: %v", err)
	}
	if res.Record.Phase != Ready {
		t.Fatalf("phase = %s", res.Record.Phase)
	}
	st, _ := m.Status(context.Background(), "interrupted")
	if st.State != cluster.Running || st.Nodes.Ready != 2 {
		t.Fatalf("status after completion = %+v", st)
	}
}

// cancelOn cancels a context some time after a step starts.
type cancelOn struct {
	step   string
	after  time.Duration
	cancel context.CancelFunc
}

func (c cancelOn) Emit(e event.Event) {
	if e.Type == event.StepStart && e.Step == c.step {
		time.AfterFunc(c.after, c.cancel)
	}
}

func TestConcurrentUpsCreateOneLab(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.LockWait = 2 * time.Minute // the second waits for the first, then finds it up
	cleanupLab(t, m, "race")
	var wg sync.WaitGroup
	results := make([]*UpResult, 2)
	errors := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { results[i], errors[i] = m.Up(context.Background(), UpOptions{Lab: simLab(t, "race", 1)}) })
	}
	wg.Wait()
	if errors[0] != nil || errors[1] != nil {
		t.Fatalf("up 0: %v\nup 1: %v", errors[0], errors[1])
	}
	if results[0].AlreadyUp == results[1].AlreadyUp {
		t.Fatalf("alreadyUp = %v and %v, want exactly one creation", results[0].AlreadyUp, results[1].AlreadyUp)
	}
}

func TestUpFailsClearlyWhileAnotherProcessHoldsTheLab(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.LockWait = 300 * time.Millisecond
	held, err := state.Acquire(context.Background(), m.store().lockPath("busy"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	_, err = m.Up(context.Background(), UpOptions{Lab: simLab(t, "busy", 1)})
	if errs.KindOf(err) != errs.Busy {
		t.Fatalf("err = %v, want busy", err)
	}
	if want := "(pid " + strconv.Itoa(os.Getpid()) + ") is changing lab \"busy\""; !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to contain %q", err, want)
	}
	if state.Exists(m.store().recordPath("busy")) {
		t.Fatal("a refused up wrote a record")
	}
}

func TestDownOfAMissingLabIsANote(t *testing.T) {
	t.Parallel()
	res, err := newManager(t, nil).Down(context.Background(), "never-created")
	if err != nil || res.Existed {
		t.Fatalf("down of a missing lab = %+v, %v; want existed=false and no error", res, err)
	}
}

func TestStatusOfAMissingLabIsInvalid(t *testing.T) {
	t.Parallel()
	_, err := newManager(t, nil).Status(context.Background(), "nope")
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), `no lab named "nope"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestAdoptedClusterDownRemovesOnlyWhatLabInstalled(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.UserKubeconfig = shared.KubeconfigPath
	ctx := context.Background()
	def := simLab(t, "adopted", 1)
	res, err := m.Up(ctx, UpOptions{Lab: def, Provider: "existing", Context: "testenv"})
	if err != nil {
		t.Fatalf("adopt: %v", err)
	}
	if res.Record.Provider != "existing" || res.Record.Context != "testenv" || res.Record.UserKubeconfig != "" {
		t.Fatalf("record = %+v", res.Record)
	}
	if r, err := m.Resolve(ctx, "adopted"); err != nil || !r.Adopted || r.Machines != nil || r.Context != "testenv" {
		t.Fatalf("resolved adopted lab: %v; want adopted, context testenv, no machines (err %v)", r, err)
	}
	ours := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "adopted-installed"}}
	kube.LabelNamespace(ours, "adopted")
	theirs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "adopted-users-own"}}
	for _, ns := range []*corev1.Namespace{ours, theirs} {
		if _, err := shared.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Down(ctx, "adopted"); err != nil {
		t.Fatalf("down: %v", err)
	}
	got, err := shared.Client.CoreV1().Namespaces().Get(ctx, ours.Name, metav1.GetOptions{})
	if err == nil && got.DeletionTimestamp == nil {
		t.Fatal("the namespace lab installed was not deleted")
	}
	if got, err := shared.Client.CoreV1().Namespaces().Get(ctx, theirs.Name, metav1.GetOptions{}); err != nil || got.DeletionTimestamp != nil {
		t.Fatalf("the user's own namespace was touched: %v %v", got, err)
	}
	if _, err := shared.Client.Discovery().ServerVersion(); err != nil {
		t.Fatalf("the adopted cluster no longer answers after down: %v", err)
	}
}

func TestAdoptingAMissingContextIsInvalid(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.UserKubeconfig = shared.KubeconfigPath
	_, err := m.Up(context.Background(), UpOptions{Lab: simLab(t, "ghost", 1), Provider: "existing", Context: "no-such-context"})
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "no-such-context") {
		t.Fatalf("err = %v", err)
	}
}

// controlPlanePIDs reads the pids kwokctl recorded for the lab's cluster.
func controlPlanePIDs(t *testing.T, m *Manager, name string) []int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(m.store().workDir(name), "kwok", "clusters", "lab-"+name, "pids", "*.pid"))
	var pids []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Fields(string(data))[2] == "Z" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("process %d still runs after lab down", pid)
}

func assertPrivate(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, info.Mode().Perm())
	}
}

// TestUpAfterTheAPIServerDiedKeepsTheData: kill -9 of a sim lab's kube-apiserver leaves
// etcd's data intact; `lab status` says what to run, and `lab up` starts what stopped
// on that data (issue 17.2: it recreated the cluster empty).
func TestUpAfterTheAPIServerDiedKeepsTheData(t *testing.T) {
	t.Parallel()
	rec := &event.Recorder{}
	m := newManager(t, rec)
	ctx := context.Background()
	cleanupLab(t, m, "apiserver-died")
	res, err := m.Up(ctx, UpOptions{Lab: simLab(t, "apiserver-died", 1)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := readPrivate(res.Record.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "kept"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("kept").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(m.store().workDir("apiserver-died"), "kwok", "clusters", "lab-apiserver-died", "pids", "kube-apiserver.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)

	st, err := m.Status(ctx, "apiserver-died")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != cluster.Stopped || !strings.Contains(st.Hint, "`lab up --name apiserver-died` starts it again") {
		t.Fatalf("status of a lab whose API server died: state %s, hint %q", st.State, st.Hint)
	}
	if _, err := m.Up(ctx, UpOptions{Lab: simLab(t, "apiserver-died", 1)}); err != nil {
		t.Fatalf("up after the API server died: %v", err)
	}
	if rec.Said("anew") {
		t.Fatalf("up rebuilt the cluster: %+v", rec.Events())
	}
	got, err := cs.CoreV1().ConfigMaps("kept").Get(ctx, "survivor", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("the ConfigMap made before the API server died is gone after lab up: %v", err)
	}
	if st, _ := m.Status(ctx, "apiserver-died"); st.State != cluster.Running {
		t.Fatalf("after lab up: state %s, hint %q", st.State, st.Hint)
	}
}
