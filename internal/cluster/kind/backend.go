package kind

import (
	"fmt"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/cloudnativelab/lab/internal/event"
)

// node is one container of a kind cluster.
type node struct {
	Name string
	Role string // control-plane, worker or external-load-balancer
}

// backend is the part of kind the provider uses, narrowed so that tests can fake a
// cluster in any state without Docker.
type backend interface {
	List() ([]string, error)
	Nodes(cluster string) ([]node, error)
	Create(cluster string, cfg *v1alpha4.Cluster, kubeconfigPath string, wait time.Duration) error
	Delete(cluster, kubeconfigPath string) error
	// Kubeconfig is the external kubeconfig (API server at 127.0.0.1:<port>).
	Kubeconfig(cluster string) (string, error)
	// ImageID is the ID of an image on a node ("" or an error when it has none).
	ImageID(cluster, node, ref string) (string, error)
	// LoadImageArchive streams a `docker save` archive into a node's containerd.
	LoadImageArchive(cluster, node, archive string) error
}

// kindBackend is backend on sigs.k8s.io/kind with the docker node provider.
type kindBackend struct{ kind *kindcluster.Provider }

func newKindBackend(ev *event.Emitter) backend {
	return kindBackend{kind: kindcluster.NewProvider(
		kindcluster.ProviderWithLogger(kindLogger{ev: ev}),
		kindcluster.ProviderWithDocker(),
	)}
}

func (b kindBackend) List() ([]string, error) { return b.kind.List() }

func (b kindBackend) Nodes(cluster string) ([]node, error) {
	kindNodes, err := b.kind.ListNodes(cluster)
	if err != nil {
		return nil, err
	}
	nodes := make([]node, 0, len(kindNodes))
	for _, n := range kindNodes {
		role, err := n.Role()
		if err != nil {
			return nil, fmt.Errorf("role of node %s: %w", n, err)
		}
		nodes = append(nodes, node{Name: n.String(), Role: role})
	}
	return nodes, nil
}

func (b kindBackend) Create(cluster string, cfg *v1alpha4.Cluster, kubeconfigPath string, wait time.Duration) error {
	return b.kind.Create(cluster,
		kindcluster.CreateWithV1Alpha4Config(cfg),
		kindcluster.CreateWithWaitForReady(wait),
		// The kubeconfig goes to the lab's own file, never the user's: the lab engine
		// merges contexts itself.
		kindcluster.CreateWithKubeconfigPath(kubeconfigPath),
		// On failure kind removes the nodes it made, so a retry starts clean.
		kindcluster.CreateWithRetain(false),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
	)
}

func (b kindBackend) Delete(cluster, kubeconfigPath string) error {
	// An explicit path keeps kind away from the user's kubeconfig, which it would
	// otherwise edit to remove the cluster's context.
	return b.kind.Delete(cluster, kubeconfigPath)
}

func (b kindBackend) Kubeconfig(cluster string) (string, error) {
	return b.kind.KubeConfig(cluster, false)
}

func (b kindBackend) ImageID(cluster, node, ref string) (string, error) {
	n, err := b.node(cluster, node)
	if err != nil {
		return "", err
	}
	return nodeutils.ImageID(n, ref)
}

// LoadImageArchive is what `kind load image-archive` does for one node: the archive
// is streamed into `ctr images import` on the node.
func (b kindBackend) LoadImageArchive(cluster, node, archive string) error {
	n, err := b.node(cluster, node)
	if err != nil {
		return err
	}
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	return nodeutils.LoadImageArchive(n, f)
}

func (b kindBackend) node(cluster, name string) (nodes.Node, error) {
	list, err := b.kind.ListInternalNodes(cluster)
	if err != nil {
		return nil, err
	}
	for _, n := range list {
		if n.String() == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("kind cluster %s has no node %s", cluster, name)
}

// kindLogger forwards kind's progress lines ("Ensuring node image", "Starting
// control-plane") to the lab's event stream, where the ui shows them.
type kindLogger struct{ ev *event.Emitter }

func (l kindLogger) Warn(message string)               { l.ev.Warn(clean(message)) }
func (l kindLogger) Warnf(format string, args ...any)  { l.Warn(fmt.Sprintf(format, args...)) }
func (l kindLogger) Error(message string)              { l.ev.Warn(clean(message)) }
func (l kindLogger) Errorf(format string, args ...any) { l.Error(fmt.Sprintf(format, args...)) }
func (l kindLogger) V(level kindlog.Level) kindlog.InfoLogger {
	return kindInfo{ev: l.ev, on: level == 0}
}

// kindInfo passes on user-facing (V(0)) messages only; higher levels are debug noise.
type kindInfo struct {
	ev *event.Emitter
	on bool
}

func (i kindInfo) Info(message string) {
	trimmed := strings.TrimSpace(message)
	// kind prints each phase twice, " • X ..." when it starts and " ✓ X" or " ✗ X" when
	// it ends; the start is enough, and a failure comes back as the returned error.
	if !i.on || trimmed == "" || strings.HasPrefix(trimmed, "✓") || strings.HasPrefix(trimmed, "✗") {
		return
	}
	i.ev.Info(strings.TrimSpace(strings.TrimSuffix(clean(trimmed), "...")))
}
func (i kindInfo) Infof(format string, args ...any) { i.Info(fmt.Sprintf(format, args...)) }
func (i kindInfo) Enabled() bool                    { return i.on }

// clean trims kind's terminal decoration (bullets, surrounding space).
func clean(message string) string {
	return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(message), "• "))
}
