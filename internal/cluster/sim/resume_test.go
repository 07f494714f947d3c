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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// TestCreateRepairsAndReplacesBrokenClusters breaks one real sim cluster three times.
// Every process stops (a reboot): Create starts them again, keeping the cluster's data.
// kwok's controller dies: Status names it, Create starts just it, and the new one takes
// the nodes over at once. Then what a Ctrl-C during kwokctl's create can leave: an API
// server that answers while kwok's controller never started (registered nodes would
// never become Ready);
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
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
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
	assertLoopbackOnly(t, dir)

	t.Run("every component stopped, as after a reboot", func(t *testing.T) {
		cs := clientset(ctx, t, p, req)
		marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survives", Namespace: "default"}}
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, marker, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"kwok-controller", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
			kill(t, pidOf(t, dir, c))
		}
		if st, _ := p.Status(ctx, req); st.State != cluster.Stopped {
			t.Fatalf("status with every component killed = %+v, want stopped", st)
		}
		rec := &event.Recorder{}
		if err := p.Create(ctx, req, event.NewEmitter(rec)); err != nil {
			t.Fatal(err)
		}
		if rec.Said("anew") {
			t.Fatalf("Create rebuilt a cluster it only had to start: %+v", rec.Events())
		}
		cs = clientset(ctx, t, p, req)
		if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "survives", metav1.GetOptions{}); err != nil {
			t.Fatalf("the cluster's data did not survive the restart: %v", err)
		}
		waitNodes(ctx, t, p, req)
		assertLoopbackOnly(t, dir)
	})

	t.Run("kwok's controller died", func(t *testing.T) {
		cs := clientset(ctx, t, p, req)
		oldHolder := leaseHolder(ctx, t, cs, "resume-worker")
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
		if rec.Said("anew") || pidOf(t, dir, "kube-apiserver") != apiServer {
			t.Fatalf("Create rebuilt the cluster to restart one component: %+v", rec.Events())
		}
		if st, _ := p.Status(ctx, req); st.Problem != "" {
			t.Fatalf("after repair: %s", st.Problem)
		}
		// The new controller must take the nodes over without waiting for the dead
		// one's leases to expire (40 s): lab releases them.
		deadline := time.Now().Add(25 * time.Second)
		for leaseHolder(ctx, t, cs, "resume-worker") == oldHolder {
			if time.Now().After(deadline) {
				t.Fatalf("the node lease is still held by the dead controller (%s)", oldHolder)
			}
			time.Sleep(200 * time.Millisecond)
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
		if !rec.Said("interrupted; creating it anew") {
			t.Fatalf("Create did not say it replaced the interrupted cluster: %+v", rec.Events())
		}
		if alive(oldAPIServer) {
			t.Errorf("the interrupted cluster's kube-apiserver (pid %d) survived its replacement", oldAPIServer)
		}
		waitNodes(ctx, t, p, req)
	})
}

func clientset(ctx context.Context, t *testing.T, p *sim.Provider, req cluster.Request) kubernetes.Interface {
	t.Helper()
	raw, err := p.Kubeconfig(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kube.Clientset(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func waitNodes(ctx context.Context, t *testing.T, p *sim.Provider, req cluster.Request) {
	t.Helper()
	if err := kube.WaitNodesReady(ctx, clientset(ctx, t, p, req), 2, 2*time.Minute); err != nil {
		st, _ := p.Status(ctx, req)
		t.Fatalf("%v\ncluster status: %+v\n%s", err, st, componentLogs(req))
	}
}

// leaseHolder is who holds a node's lease, waiting for the lease to exist.
func leaseHolder(ctx context.Context, t *testing.T, cs kubernetes.Interface, node string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		lease, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, node, metav1.GetOptions{})
		if err == nil && lease.Spec.HolderIdentity != nil {
			return *lease.Spec.HolderIdentity
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s has no held lease: %v", node, err)
		}
		time.Sleep(200 * time.Millisecond)
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

// componentLogs is the end of each component's log, for a failure message.
func componentLogs(req cluster.Request) string {
	logs, _ := filepath.Glob(filepath.Join(req.WorkDir, "kwok", "clusters", "lab-"+req.Name, "logs", "*.log"))
	var b strings.Builder
	for _, f := range logs {
		data, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		b.WriteString("--- " + filepath.Base(f) + "\n" + strings.Join(lines[max(0, len(lines)-8):], "\n") + "\n")
	}
	return b.String()
}
