package class

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// The package's shared control plane is not graded: TestMain starts it for the sim
// binaries it finds; each class below makes sim labs of its own.
func TestMain(m *testing.M) { testenv.Main(m, func(*testenv.Cluster) {}) }

// clock is a settable time for the engine.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newEngine(t *testing.T, c *clock) *Engine {
	t.Helper()
	dir := t.TempDir()
	return &Engine{Now: c.now, Labs: &lab.Manager{
		StateDir:        filepath.Join(dir, "state"),
		Providers:       map[string]cluster.Provider{"sim": sim.New()},
		DockerReachable: func(context.Context) error { return errors.New("no Docker in this test") },
		UserKubeconfig:  filepath.Join(dir, "kubeconfig"),
		LockWait:        time.Second,
		NodeTimeout:     time.Minute,
		Events:          event.NewEmitter(event.Discard),
	}}
}

func oneNodeSimLab(t *testing.T) *spec.Lab {
	t.Helper()
	l, err := spec.LoadLab("room.yaml", []byte(`apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata: {name: room}
spec:
  cluster:
    provider: sim
    nodes: [{role: control-plane}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestClassOnSimLabs: a class of three sim labs is brought up (kubeconfigs, cards),
// graded with one student passing, one failing and one whose lab is gone (an error for
// that student only), and taken down leaving nothing.
func TestClassOnSimLabs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	e := newEngine(t, clk)
	out := filepath.Join(t.TempDir(), "room")
	opts := UpOptions{Name: "k8s101", Students: 3, Lab: oneNodeSimLab(t), Source: "room.yaml", OutDir: out, Cards: true}
	c, err := e.Up(ctx, opts)
	if err != nil {
		t.Fatalf("class up: %v", err)
	}
	for _, s := range c.Students {
		assertFile(t, s.Kubeconfig, 0o600, "")
		assertFile(t, s.Card, 0o600, "Your lab is `"+s.Lab+"`")
	}
	if _, err := e.Up(ctx, opts); err != nil {
		t.Fatalf("class up again (nothing to do): %v", err)
	}
	bigger := opts
	bigger.Students = 4
	if _, err := e.Up(ctx, bigger); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "exists with 3 students") {
		t.Fatalf("class up with another size: %v, want exit 2", err)
	}

	answer(t, c.Students[0].Kubeconfig)
	if _, err := e.Labs.Down(ctx, c.Students[2].Lab); err != nil { // student03's lab is gone
		t.Fatal(err)
	}
	checks, err := spec.LoadChecksFile("testdata/homework.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clk.t = start.Add(90 * time.Second)
	board, err := e.Grade(ctx, "k8s101", checks)
	if err != nil {
		t.Fatalf("class grade: %v", err)
	}
	want := []struct {
		outcome grade.Outcome
		since   time.Duration
	}{{grade.Pass, 0}, {grade.Fail, 90 * time.Second}, {grade.Error, 90 * time.Second}}
	for i, w := range want {
		s := board.Students[i]
		if got := s.Report.Checks[0].Outcome; got != w.outcome || s.SinceProgress != w.since {
			t.Errorf("%s: %s, %v since progress; want %s, %v (%+v)", s.Student, got, s.SinceProgress, w.outcome, w.since, s.Report.Checks[0])
		}
	}
	if errs.KindOf(board.Err()) != errs.ChecksErrored {
		t.Errorf("scoreboard error %v, want checks errored (exit 4)", board.Err())
	}

	if _, err := e.Down(ctx, "k8s101"); err != nil {
		t.Fatalf("class down: %v", err)
	}
	for _, s := range c.Students {
		if _, err := os.Stat(s.Kubeconfig); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", s.Kubeconfig, err)
		}
		if st, err := e.Labs.Status(ctx, s.Lab); err == nil {
			t.Errorf("lab %s is still there: %+v", s.Lab, st)
		}
	}
	if _, err := e.Load("k8s101"); errs.KindOf(err) != errs.Invalid {
		t.Errorf("the class is still recorded: %v", err)
	}
}

// TestClassNames: a class whose labs' names would not be lab names is refused before
// anything is made, as is a class of no student or too many.
func TestClassNames(t *testing.T) {
	t.Parallel()
	e := newEngine(t, &clock{})
	cases := map[string]struct {
		name     string
		students int
	}{
		"too long":    {strings.Repeat("x", 31), 1},
		"not a label": {"Week_2", 1},
		"no students": {"ok", 0},
		"too many":    {"ok", MaxStudents + 1},
	}
	for label, tc := range cases {
		if _, err := e.Up(context.Background(), UpOptions{Name: tc.name, Students: tc.students, Lab: oneNodeSimLab(t)}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: %v, want exit 2", label, err)
		}
	}
	if entries, _ := os.ReadDir(e.Labs.StateDir); len(entries) != 0 {
		t.Errorf("refused classes left state: %v", entries)
	}
}

// answer does student01's homework in their own cluster, with their kubeconfig.
func answer(t *testing.T, kubeconfigFile string) {
	t.Helper()
	data, err := os.ReadFile(kubeconfigFile)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "homework", Namespace: "default"}, Data: map[string]string{"answer": "42"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func assertFile(t *testing.T, path string, mode os.FileMode, contains string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != mode {
		t.Fatalf("%s: %v, mode %v, want %v", path, err, fi.Mode().Perm(), mode)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), contains) {
		t.Errorf("%s lacks %q:\n%s", path, contains, data)
	}
}
