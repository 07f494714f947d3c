//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// TestKindLifecycle creates a real two-node lab cluster through the kind provider and
// takes it down again, checking what the lab engine relies on at each step.
func TestKindLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	p := kind.New()
	req := cluster.Request{
		Name:    "e2e-" + randomSuffix(t),
		WorkDir: filepath.Join(t.TempDir(), "work"),
		Cluster: spec.ClusterSpec{
			Provider: spec.ProviderKind,
			Nodes: []spec.NodeGroup{
				{Role: spec.RoleControlPlane, Count: 1},
				{Role: spec.RoleWorker, Count: 1},
			},
			// A free high port exercises the host port mapping without needing 80/443.
			Ports: []int{freePort(t)},
		},
	}
	ev := event.NewEmitter(logSink{t})
	t.Cleanup(func() { _ = p.Delete(context.Background(), req) })

	if err := p.Preflight(ctx, req, ev); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	if err := p.Create(ctx, req, ev); err != nil {
		t.Fatalf("Create: %v", err)
	}
	assertStatus(t, p, req, cluster.Running)

	kubeconfig, err := p.Kubeconfig(ctx, req)
	if err != nil {
		t.Fatalf("Kubeconfig: %v", err)
	}
	assertOneContext(t, kubeconfig)
	waitNodesReady(ctx, t, kubeconfig, 2)

	// A second Create finds the healthy cluster and keeps it: the same API server, whose
	// nodes keep their UIDs.
	before := nodeUIDs(ctx, t, kubeconfig)
	if err := p.Create(ctx, req, ev); err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if after := nodeUIDs(ctx, t, kubeconfig); !slices.Equal(after, before) {
		t.Errorf("nodes after the second Create = %v, want the same nodes %v: it should keep the existing cluster", after, before)
	}

	if err := p.Delete(ctx, req); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertStatus(t, p, req, cluster.Missing)
	if err := p.Delete(ctx, req); err != nil {
		t.Fatalf("Delete of a deleted cluster: %v", err)
	}
}

func assertStatus(t *testing.T, p *kind.Provider, req cluster.Request, want cluster.State) {
	t.Helper()
	got, err := p.Status(context.Background(), req)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if got.State != want {
		t.Fatalf("Status = %+v, want %s", got, want)
	}
}

func assertOneContext(t *testing.T, kubeconfig []byte) {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig does not parse: %v", err)
	}
	if len(cfg.Contexts) != 1 {
		t.Errorf("kubeconfig has %d contexts, want exactly one", len(cfg.Contexts))
	}
}

// waitNodesReady checks through client-go, as a user's kubectl would, that the API
// answers on the host and that every node is Ready.
func waitNodesReady(ctx context.Context, t *testing.T, kubeconfig []byte, want int) {
	t.Helper()
	client := clientFor(t, kubeconfig)
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Logf("listing nodes: %v", err)
			return false, nil
		}
		return len(nodes.Items) == want && allReady(nodes.Items), nil
	})
	if err != nil {
		t.Fatalf("nodes did not become Ready: %v", err)
	}
}

func clientFor(t *testing.T, kubeconfig []byte) kubernetes.Interface {
	t.Helper()
	restConfig, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// nodeUIDs are the cluster's node UIDs, sorted.
func nodeUIDs(ctx context.Context, t *testing.T, kubeconfig []byte) []string {
	t.Helper()
	client := clientFor(t, kubeconfig)
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, n := range nodes.Items {
		uids = append(uids, string(n.UID))
	}
	slices.Sort(uids)
	return uids
}

func allReady(nodes []corev1.Node) bool {
	for _, n := range nodes {
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			return false
		}
	}
	return true
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freePort asks the kernel for a port nothing listens on.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// logSink shows the provider's progress in the test log.
type logSink struct{ t *testing.T }

func (s logSink) Emit(e event.Event) {
	s.t.Logf("%s %s %s %s", e.Type, e.Step, e.Message, e.Error)
}
