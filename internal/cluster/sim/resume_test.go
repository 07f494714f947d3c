package sim_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// TestCreateRepairsAndReplacesBrokenClusters breaks one real sim cluster twice. First a
// component dies in a finished cluster: Status names it and Create starts it again.
// Then what a Ctrl-C during kwokctl's create can leave: an API server that answers
// while kwok's controller never started (registered nodes would never become Ready);
// Create must build the cluster anew rather than adopt it.
func TestCreateRepairsAndReplacesBrokenClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real control plane")
	}
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(sim.BinDirEnv, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	p := sim.New()
	req := cluster.Request{Name: "resume", WorkDir: t.TempDir(), Cluster: spec.ClusterSpec{
		Provider: spec.ProviderSim,
		Nodes:    []spec.NodeGroup{{Role: spec.RoleControlPlane, Count: 1}, {Role: spec.RoleWorker, Count: 1}},
	}}
	t.Cleanup(func() { p.Delete(context.Background(), req) })
	if err := p.Create(ctx, req, event.NewEmitter(nil)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(req.WorkDir, "kwok", "clusters", "lab-resume")

	t.Run("a component died", func(t *testing.T) {
		kill(t, pidOf(t, dir, "kwok-controller"))
		st, err := p.Status(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != cluster.Running || !strings.Contains(st.Problem, "not running: kwok-controller") {
			t.Fatalf("status with kwok-controller killed = %+v, want running with the problem named", st)
		}
		apiServer := pidOf(t, dir, "kube-apiserver")
		rec := &event.Recorder{}
		if err := p.Create(ctx, req, event.NewEmitter(rec)); err != nil {
			t.Fatal(err)
		}
		if said(rec, "anew") || pidOf(t, dir, "kube-apiserver") != apiServer {
			t.Fatalf("Create rebuilt the cluster to restart one component: %+v", rec.Events())
		}
		if st, _ := p.Status(ctx, req); st.Problem != "" {
			t.Fatalf("after repair: %s", st.Problem)
		}
		waitNodes(ctx, t, p, req)
	})

	t.Run("its create was interrupted", func(t *testing.T) {
		oldAPIServer := pidOf(t, dir, "kube-apiserver")
		kill(t, pidOf(t, dir, "kwok-controller"))
		if err := os.Remove(filepath.Join(dir, "lab-created")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		rec := &event.Recorder{}
		if err := p.Create(ctx, req, event.NewEmitter(rec)); err != nil {
			t.Fatal(err)
		}
		if !said(rec, "interrupted; creating it anew") {
			t.Fatalf("Create did not say it replaced the interrupted cluster: %+v", rec.Events())
		}
		if alive(oldAPIServer) {
			t.Errorf("the interrupted cluster's kube-apiserver (pid %d) survived its replacement", oldAPIServer)
		}
		waitNodes(ctx, t, p, req)
	})
}

func waitNodes(ctx context.Context, t *testing.T, p *sim.Provider, req cluster.Request) {
	t.Helper()
	raw, err := p.Kubeconfig(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kube.Clientset(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.WaitNodesReady(ctx, cs, 2, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func kill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Wait for the kernel to finish it, so Status does not see it alive.
	for range 100 {
		if !alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d still alive after SIGKILL", pid)
}

// pidOf reads the pid of one of the cluster's processes from the file kwokctl keeps.
func pidOf(t *testing.T, clusterDir, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(clusterDir, "pids", name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive is true for a running process; a zombie (killed, not yet reaped by an init
// that may never reap) counts as gone.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func said(rec *event.Recorder, text string) bool {
	for _, e := range rec.Events() {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}
