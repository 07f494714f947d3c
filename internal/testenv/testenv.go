// Package testenv gives integration tests a real Kubernetes control plane: one sim
// cluster (etcd, kube-apiserver, controller-manager, scheduler and kwok, as local
// processes) per test package, started in TestMain and torn down afterwards, even when
// tests fail. Clusters left by a killed test binary are removed by the next run.
//
// The binaries come from `make testenv` (.testenv/bin) or $LAB_SIM_BIN_DIR.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/proc"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Cluster is a running sim cluster.
type Cluster struct {
	Name string
	// Kubeconfig is an admin kubeconfig with one context, also written to KubeconfigPath.
	Kubeconfig     []byte
	KubeconfigPath string
	Client         kubernetes.Interface
	// BinDir holds the control-plane binaries, for tests that start clusters of their own.
	BinDir string

	provider *sim.Provider
	req      cluster.Request
}

// Main starts one cluster with two nodes, runs the tests and tears it down; use it
// from TestMain. setup receives the cluster (store it in a package variable).
func Main(m *testing.M, setup func(*Cluster)) {
	os.Exit(run(m, setup))
}

// MainWith is Main for packages that start more against the cluster (a controller):
// a setup error fails the package before any test runs, and teardown runs after the
// tests, before the cluster stops.
func MainWith(m *testing.M, setup func(*Cluster) (teardown func(), err error)) {
	os.Exit(runWith(m, setup))
}

func run(m *testing.M, setup func(*Cluster)) int {
	return runWith(m, func(c *Cluster) (func(), error) { setup(c); return func() {}, nil })
}

func runWith(m *testing.M, setup func(*Cluster) (func(), error)) int {
	c, err := Start(context.Background(), 2)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	stopOnSignal(c)
	defer c.Stop()
	teardown, err := setup(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: setting up:", err)
		return 1
	}
	defer teardown()
	return m.Run()
}

// stopOnSignal tears the cluster down when the test binary is interrupted.
func stopOnSignal(c *Cluster) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		c.Stop()
		os.Exit(130)
	}()
}

// Root is where test clusters live: one dir per test process, named after its pid so a
// later run can tell which ones were orphaned.
func Root() string { return filepath.Join(os.TempDir(), "lab-testenv") }

// BinDir finds the control-plane binaries: $LAB_SIM_BIN_DIR, else .testenv/bin at the
// repository root.
func BinDir() (string, error) {
	if d := os.Getenv(sim.BinDirEnv); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, ".testenv", "bin")
			if _, err := os.Stat(filepath.Join(bin, "kwokctl")); err != nil {
				return "", fmt.Errorf("no test environment in %s: run `make testenv` (or `make test`, which builds it)", bin)
			}
			return bin, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory; set %s", sim.BinDirEnv)
		}
		dir = parent
	}
}

// Start creates a sim cluster with the given number of nodes (one control plane, the
// rest workers).
func Start(ctx context.Context, nodes int) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	// The sim provider reads its binaries from the environment, as `lab` does.
	os.Setenv(sim.BinDirEnv, bin)
	reapOrphans()
	work := filepath.Join(Root(), strconv.Itoa(os.Getpid()))
	name := fmt.Sprintf("t%d", os.Getpid())
	c := &Cluster{Name: name, BinDir: bin, provider: sim.New()}
	c.req = cluster.Request{Name: name, WorkDir: work, Cluster: spec.ClusterSpec{
		Provider: spec.ProviderSim,
		Nodes:    []spec.NodeGroup{{Role: spec.RoleControlPlane, Count: 1}, {Role: spec.RoleWorker, Count: nodes - 1}},
	}}
	if err := c.start(ctx, nodes); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, nodes int) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := c.provider.Create(ctx, c.req, event.NewEmitter(nil)); err != nil {
		return fmt.Errorf("starting the sim cluster: %w", err)
	}
	raw, err := c.provider.Kubeconfig(ctx, c.req)
	if err != nil {
		return err
	}
	if c.Kubeconfig, err = kube.RenameContext(raw, "testenv"); err != nil {
		return err
	}
	c.KubeconfigPath = filepath.Join(c.req.WorkDir, "kubeconfig")
	if err := os.WriteFile(c.KubeconfigPath, c.Kubeconfig, 0o600); err != nil {
		return err
	}
	if c.Client, err = kube.Clientset(c.Kubeconfig); err != nil {
		return err
	}
	return kube.WaitNodesReady(ctx, c.Client, nodes, 2*time.Minute)
}

// Stop deletes the cluster and its files; safe to call twice.
func (c *Cluster) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.provider.Delete(ctx, c.req); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: deleting the sim cluster:", err)
	}
	os.RemoveAll(c.req.WorkDir)
}

// reapOrphans deletes clusters of test processes that no longer exist (killed by a
// timeout, say), so their etcd and apiserver do not run forever.
func reapOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(Root(), "*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || proc.Running(pid) {
			continue
		}
		p := sim.New()
		req := cluster.Request{Name: "t" + strconv.Itoa(pid), WorkDir: dir}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p.Delete(ctx, req)
		cancel()
		os.RemoveAll(dir)
	}
}
