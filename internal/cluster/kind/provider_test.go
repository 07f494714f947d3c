package kind

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

func TestName(t *testing.T) {
	t.Parallel()
	if got := New().Name(); got != "kind" {
		t.Errorf("Name() = %q", got)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	full := NodeCounts{ControlPlanes: 1, Workers: 2}
	tests := []struct {
		name      string
		setup     func(*fakeEnv)
		wantCalls string
		wantWarn  string // part of the one expected warning; "" means none
	}{
		{
			name:      "missing cluster is created",
			wantCalls: "create lab-demo",
		},
		{
			name:      "healthy cluster is kept",
			setup:     func(f *fakeEnv) { f.addCluster("lab-demo", full) },
			wantCalls: "",
		},
		{
			name:      "cluster missing a worker is recreated",
			setup:     func(f *fakeEnv) { f.addCluster("lab-demo", NodeCounts{ControlPlanes: 1, Workers: 1}) },
			wantCalls: "delete lab-demo, create lab-demo",
			wantWarn:  "it has 1 control-plane and 1 worker node(s), the lab wants 1 control-plane and 2 worker node(s)",
		},
		{
			name: "cluster with an exited container is recreated",
			setup: func(f *fakeEnv) {
				f.addCluster("lab-demo", full)
				f.states["lab-demo-worker2"] = "exited"
			},
			wantCalls: "delete lab-demo, create lab-demo",
			wantWarn:  "container lab-demo-worker2 is exited",
		},
		{
			name: "interrupted create (no kubeconfig yet) is recreated",
			setup: func(f *fakeEnv) {
				f.addCluster("lab-demo", full)
				f.noAdminKey["lab-demo"] = true
			},
			wantCalls: "delete lab-demo, create lab-demo",
			wantWarn:  "creation did not finish",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newFakeEnv()
			if tt.setup != nil {
				tt.setup(env)
			}
			workDir := filepath.Join(t.TempDir(), "work") // not made yet: Create makes it
			rec := &event.Recorder{}
			err := env.provider().Create(context.Background(), request(workDir, oneControlPlaneTwoWorkers), event.NewEmitter(rec))
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got := env.callLog(); got != tt.wantCalls {
				t.Errorf("kind calls = %q, want %q", got, tt.wantCalls)
			}
			assertOneWarning(t, rec, tt.wantWarn)
			assertKubeconfigFile(t, workDir)
		})
	}
}

func assertOneWarning(t *testing.T, rec *event.Recorder, want string) {
	t.Helper()
	warns := warnings(rec)
	switch {
	case want == "" && len(warns) > 0:
		t.Errorf("unexpected warnings %q", warns)
	case want != "" && (len(warns) != 1 || !strings.Contains(warns[0], want)):
		t.Errorf("warnings = %q, want one saying %q", warns, want)
	}
}

func assertKubeconfigFile(t *testing.T, workDir string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(workDir, kubeconfigFile))
	if err != nil {
		t.Fatalf("kubeconfig file: %v", err)
	}
	if string(got) != fakeKubeconfig("lab-demo") {
		t.Errorf("kubeconfig file = %q", got)
	}
}

func TestCreateFailsWhenNodesStayNotReady(t *testing.T) {
	t.Parallel()
	env := newFakeEnv()
	env.notReady["lab-demo-worker"] = true
	err := env.provider().Create(context.Background(), request(t.TempDir(), oneControlPlaneTwoWorkers), event.NewEmitter(nil))
	assertErr(t, err, errs.Unavailable, "lab-demo is not ready", "node lab-demo-worker is not Ready")
}

func TestCreateNeedsWorkDir(t *testing.T) {
	t.Parallel()
	env := newFakeEnv()
	err := env.provider().Create(context.Background(), request("", noPorts), event.NewEmitter(nil))
	assertErr(t, err, errs.Internal, "work directory")
	if calls := env.callLog(); calls != "" {
		t.Errorf("kind was called without a work directory: %s", calls)
	}
}

func TestCreateStopsOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	blocked := make(chan struct{})
	defer close(blocked)
	err := runCancellable(ctx, func() error { <-blocked; return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("runCancellable after cancel = %v", err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		exists    bool
		wantCalls string
	}{
		{"existing cluster", true, "delete lab-demo"},
		{"missing cluster is fine", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newFakeEnv()
			workDir := t.TempDir()
			if tt.exists {
				env.addCluster("lab-demo", NodeCounts{ControlPlanes: 1})
				os.WriteFile(filepath.Join(workDir, kubeconfigFile), []byte("x"), 0o600)
			}
			if err := env.provider().Delete(context.Background(), request(workDir, noPorts)); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if got := env.callLog(); got != tt.wantCalls {
				t.Errorf("kind calls = %q, want %q", got, tt.wantCalls)
			}
			if _, err := os.Stat(filepath.Join(workDir, kubeconfigFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("kubeconfig file left behind: %v", err)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(*fakeEnv)
		want       cluster.State
		wantDetail string
	}{
		{"missing", func(*fakeEnv) {}, cluster.Missing, ""},
		{"running", func(f *fakeEnv) {}, cluster.Running, ""},
		{"container exited", func(f *fakeEnv) { f.states["lab-demo-control-plane"] = "exited" },
			cluster.Stopped, "container lab-demo-control-plane is exited"},
		{"API server down", func(f *fakeEnv) { f.apiDown = true },
			cluster.Stopped, "API server does not answer"},
		{"node not ready", func(f *fakeEnv) { f.notReady["lab-demo-worker"] = true },
			cluster.Running, "node lab-demo-worker is not Ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newFakeEnv()
			if tt.name != "missing" {
				env.addCluster("lab-demo", NodeCounts{ControlPlanes: 1, Workers: 2})
			}
			tt.setup(env)
			got, err := env.provider().Status(context.Background(), request(t.TempDir(), oneControlPlaneTwoWorkers))
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if got.State != tt.want || !strings.Contains(got.Detail, tt.wantDetail) || got.Simulated {
				t.Errorf("Status = %+v, want %s with detail %q", got, tt.want, tt.wantDetail)
			}
		})
	}
}

func TestKubeconfig(t *testing.T) {
	t.Parallel()
	env := newFakeEnv()
	p := env.provider()
	req := request(t.TempDir(), noPorts)

	_, err := p.Kubeconfig(context.Background(), req)
	assertErr(t, err, errs.Unavailable, "kind cluster lab-demo does not exist")

	env.addCluster("lab-demo", NodeCounts{ControlPlanes: 1})
	got, err := p.Kubeconfig(context.Background(), req)
	if err != nil {
		t.Fatalf("Kubeconfig: %v", err)
	}
	if string(got) != fakeKubeconfig("lab-demo") {
		t.Errorf("Kubeconfig = %q", got)
	}
}

// When kind fails because the daemon went away, the user reads that, not kind's
// "command docker ps failed".
func TestKindFailureExplainedByDocker(t *testing.T) {
	t.Parallel()
	env := newFakeEnv()
	env.listErr = errors.New(`failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster" failed with error: exit status 1`)
	env.infoStderr = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
	env.infoErr = errors.New("exit status 1")
	_, err := env.provider().Status(context.Background(), request(t.TempDir(), noPorts))
	assertErr(t, err, errs.Unavailable, "Docker is not reachable")

	env.infoStderr, env.infoErr = "", nil
	_, err = env.provider().Status(context.Background(), request(t.TempDir(), noPorts))
	assertErr(t, err, errs.Internal, "cannot list kind clusters", "docker ps")
}

func TestKindLoggerForwardsPhaseStarts(t *testing.T) {
	t.Parallel()
	rec := &event.Recorder{}
	log := kindLogger{ev: event.NewEmitter(rec)}
	log.V(0).Infof(" • %s  ...\n", "Ensuring node image (kindest/node:v1.36.4) 🖼")
	log.V(0).Infof(" ✓ %s\n", "Ensuring node image (kindest/node:v1.36.4) 🖼")
	log.V(1).Info("debug noise")
	log.Warn("failed to update kubeconfig")
	var got []string
	for _, e := range rec.Events() {
		got = append(got, string(e.Type)+": "+e.Message)
	}
	want := "info: Ensuring node image (kindest/node:v1.36.4) 🖼 | warn: failed to update kubeconfig"
	if strings.Join(got, " | ") != want {
		t.Errorf("events = %q, want %q", strings.Join(got, " | "), want)
	}
}
