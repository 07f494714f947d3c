package kind

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// healthyDockerInfo is `docker info` of a daemon with 8 GiB.
const healthyDockerInfo = `{"ServerVersion":"28.2.2","MemTotal":8589934592,"NCPU":4,"SecurityOptions":["name=seccomp,profile=builtin","name=cgroupns"]}`

// fakeEnv plays Docker (through the CommandRunner), kind (as the backend) and the
// clusters' API servers, so that every state of a cluster can be set up by a test.
type fakeEnv struct {
	mu sync.Mutex

	infoStdout, infoStderr string
	infoErr                error
	infoBlocks             bool // docker info hangs until its context ends

	clusters   map[string][]node
	states     map[string]string // container name → docker state
	noAdminKey map[string]bool   // clusters whose kubeconfig kind cannot read
	apiDown    bool
	notReady   map[string]bool // node names the API reports NotReady
	listErr    error
	calls      []string
}

func newFakeEnv() *fakeEnv {
	return &fakeEnv{
		infoStdout: healthyDockerInfo,
		clusters:   map[string][]node{},
		states:     map[string]string{},
		noAdminKey: map[string]bool{},
		notReady:   map[string]bool{},
	}
}

// provider is a Provider wired to the fake, with waits shortened for tests.
func (f *fakeEnv) provider(opts ...Option) *Provider {
	p := New(append([]Option{WithCommandRunner(f.run), WithReadyTimeout(50 * time.Millisecond)}, opts...)...)
	p.newBackend = func(*event.Emitter) backend { return f }
	p.probe = f.probe
	p.settleWait = 0
	p.pollEvery = time.Millisecond
	p.dockerTimeout = 50 * time.Millisecond
	return p
}

func (f *fakeEnv) run(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case name != "docker":
		return nil, nil, fmt.Errorf("unexpected command %s", name)
	case args[0] == "info" && f.infoBlocks:
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		return nil, nil, ctx.Err()
	case args[0] == "info":
		return []byte(f.infoStdout), []byte(f.infoStderr), f.infoErr
	case args[0] == "inspect":
		var out strings.Builder
		for _, container := range args[3:] {
			if state, ok := f.states[container]; ok {
				fmt.Fprintf(&out, "/%s %s\n", container, state)
			}
		}
		return []byte(out.String()), nil, nil
	}
	return nil, nil, fmt.Errorf("unexpected docker %v", args)
}

// addCluster makes a running cluster of the given shape, as kind names its nodes.
func (f *fakeEnv) addCluster(name string, counts NodeCounts) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addClusterLocked(name, counts)
}

func (f *fakeEnv) addClusterLocked(name string, counts NodeCounts) {
	var nodes []node
	for i := range counts.ControlPlanes {
		nodes = append(nodes, node{Name: kindNodeName(name, "control-plane", i), Role: "control-plane"})
	}
	for i := range counts.Workers {
		nodes = append(nodes, node{Name: kindNodeName(name, "worker", i), Role: "worker"})
	}
	for _, n := range nodes {
		f.states[n.Name] = "running"
	}
	f.clusters[name] = nodes
}

func kindNodeName(cluster, role string, i int) string {
	if i == 0 {
		return cluster + "-" + role
	}
	return fmt.Sprintf("%s-%s%d", cluster, role, i+1)
}

func (f *fakeEnv) List() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var names []string
	for name := range f.clusters {
		names = append(names, name)
	}
	return names, nil
}

func (f *fakeEnv) Nodes(cluster string) ([]node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.clusters[cluster]), nil
}

func (f *fakeEnv) Create(name string, cfg *v1alpha4.Cluster, kubeconfigPath string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "create "+name)
	var counts NodeCounts
	for _, n := range cfg.Nodes {
		if n.Role == v1alpha4.ControlPlaneRole {
			counts.ControlPlanes++
		} else {
			counts.Workers++
		}
	}
	f.addClusterLocked(name, counts)
	delete(f.noAdminKey, name)
	return os.WriteFile(kubeconfigPath, []byte(fakeKubeconfig(name)), 0o600)
}

func (f *fakeEnv) Delete(name, kubeconfigPath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "delete "+name)
	for _, n := range f.clusters[name] {
		delete(f.states, n.Name)
	}
	delete(f.clusters, name)
	return nil
}

func (f *fakeEnv) Kubeconfig(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clusters[name]; !ok || f.noAdminKey[name] {
		return "", fmt.Errorf("failed to get cluster internal kubeconfig: command cat /etc/kubernetes/admin.conf failed")
	}
	return fakeKubeconfig(name), nil
}

func fakeKubeconfig(cluster string) string { return "current-context: kind-" + cluster + "\n" }

// probe answers for the cluster whose kubeconfig it is given.
func (f *fakeEnv) probe(_ context.Context, kubeconfig []byte) ([]nodeReadiness, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.apiDown {
		return nil, fmt.Errorf("dial tcp 127.0.0.1:6443: connect: connection refused")
	}
	cluster := strings.TrimSpace(strings.TrimPrefix(string(kubeconfig), "current-context: kind-"))
	var ready []nodeReadiness
	for _, n := range f.clusters[cluster] {
		ready = append(ready, nodeReadiness{Name: n.Name, Ready: !f.notReady[n.Name]})
	}
	return ready, nil
}

func (f *fakeEnv) callLog() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ", ")
}

// request is a lab named demo, kind cluster lab-demo.
func request(workDir string, cs spec.ClusterSpec) cluster.Request {
	return cluster.Request{Name: "demo", Cluster: cs, WorkDir: workDir}
}

// warnings are the messages of the recorded warnings.
func warnings(rec *event.Recorder) []string {
	var out []string
	for _, e := range rec.Events() {
		if e.Type == event.Warn {
			out = append(out, e.Message)
		}
	}
	return out
}
