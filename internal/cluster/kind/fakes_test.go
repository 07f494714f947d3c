package kind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

	// Docker's images by reference and by ID; registry is what `docker pull` can
	// bring (a reference missing from it fails as with no network).
	images   map[string]fakeImage
	registry map[string]fakeImage
	docker   []string                     // image commands run: "pull REF", "save -o FILE REF", ...
	onNode   map[string]map[string]string // node → image ref → image ID in its containerd
	loads    []string                     // "node archive" of each LoadImageArchive
	// createdFrom is the node image of the last Create.
	createdFrom string
}

// fakeImage is an image in the fake Docker.
type fakeImage struct {
	ID     string
	Labels map[string]string
}

func newFakeEnv() *fakeEnv {
	f := &fakeEnv{
		infoStdout: healthyDockerInfo,
		clusters:   map[string][]node{},
		states:     map[string]string{},
		noAdminKey: map[string]bool{},
		notReady:   map[string]bool{},
		images:     map[string]fakeImage{},
		registry:   map[string]fakeImage{},
		onNode:     map[string]map[string]string{},
	}
	// Docker has the node images already, as after a first `lab up`.
	for _, image := range nodeImages {
		f.addImageLocked(image, fakeImage{ID: "sha256:node-" + NodeImageVersion(image)})
	}
	return f
}

// addImage puts an image into the fake Docker under a reference.
func (f *fakeEnv) addImage(ref string, img fakeImage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addImageLocked(ref, img)
}

func (f *fakeEnv) addImageLocked(ref string, img fakeImage) {
	f.images[ref] = img
	f.images[img.ID] = img
}

// dockerLog is the image commands run so far.
func (f *fakeEnv) dockerLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.docker)
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
	case args[0] == "image" || args[0] == "pull" || args[0] == "save" || args[0] == "load" || args[0] == "tag":
		return f.imageCommand(args)
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

// imageCommand plays docker image inspect, pull, tag, save and load. An archive holds
// "<ref> <image ID>", which load and LoadImageArchive read back.
func (f *fakeEnv) imageCommand(args []string) ([]byte, []byte, error) {
	exit1 := errors.New("exit status 1")
	if args[0] != "image" {
		f.docker = append(f.docker, strings.Join(args, " "))
	}
	switch args[0] {
	case "image": // image inspect --format {{json .}} REF
		img, ok := f.images[args[len(args)-1]]
		if !ok {
			return nil, []byte("Error: No such image: " + args[len(args)-1]), exit1
		}
		out, _ := json.Marshal(map[string]any{"Id": img.ID, "Config": map[string]any{"Labels": img.Labels}})
		return out, nil, nil
	case "pull":
		img, ok := f.registry[args[1]]
		if !ok {
			return nil, []byte(`Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`), exit1
		}
		f.addImageLocked(args[1], img)
	case "tag":
		img, ok := f.images[args[1]]
		if !ok {
			return nil, []byte("Error response from daemon: No such image: " + args[1]), exit1
		}
		f.addImageLocked(args[2], img)
	case "save": // save -o FILE REF
		img, ok := f.images[args[3]]
		if !ok {
			return nil, []byte("Error response from daemon: reference does not exist"), exit1
		}
		return nil, nil, os.WriteFile(args[2], []byte(args[3]+" "+img.ID), 0o644)
	case "load": // load -i FILE
		data, err := os.ReadFile(args[2])
		if err != nil {
			return nil, []byte("open " + args[2] + ": no such file or directory"), exit1
		}
		ref, id, _ := strings.Cut(string(data), " ")
		f.addImageLocked(ref, fakeImage{ID: id})
	}
	return nil, nil, nil
}

func (f *fakeEnv) ImageID(_, node, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.onNode[node][ref]
	if !ok {
		return "", fmt.Errorf("no such image %s", ref)
	}
	return id, nil
}

func (f *fakeEnv) LoadImageArchive(_, node, archive string) error {
	data, err := os.ReadFile(archive)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ref, id, _ := strings.Cut(string(data), " ")
	if f.onNode[node] == nil {
		f.onNode[node] = map[string]string{}
	}
	f.onNode[node][ref] = id
	f.loads = append(f.loads, node+" "+filepath.Base(archive))
	return nil
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
	f.createdFrom = cfg.Nodes[0].Image
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
