package kind

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// nodeReadiness is one Kubernetes node as the API server reports it.
type nodeReadiness struct {
	Name  string
	Ready bool
}

// apiProbe lists a cluster's nodes through its API server.
type apiProbe func(ctx context.Context, kubeconfig []byte) ([]nodeReadiness, error)

// apiProbeTimeout keeps a dead API server from stalling Status.
const apiProbeTimeout = 10 * time.Second

// listNodesWithClientGo is the real apiProbe.
func listNodesWithClientGo(ctx context.Context, kubeconfig []byte) ([]nodeReadiness, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	cfg.Timeout = apiProbeTimeout
	client, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, apiProbeTimeout)
	defer cancel()
	list, err := client.Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	nodes := make([]nodeReadiness, 0, len(list.Items))
	for _, n := range list.Items {
		nodes = append(nodes, nodeReadiness{Name: n.Name, Ready: isReady(n)})
	}
	return nodes, nil
}

func isReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// problem is what keeps an existing cluster from being usable.
type problem struct {
	Detail string
	// APIUp is true when the API server answered: the cluster runs, if not fully.
	APIUp bool
	// Settling is true when the problem usually goes away by itself within a minute:
	// an API server still starting, nodes not Ready yet.
	Settling bool
}

// diagnose inspects a cluster that kind lists, from its containers to its nodes'
// readiness, and returns the first problem found, or nil. want nil skips comparing the
// node counts with the spec.
func (p *Provider) diagnose(ctx context.Context, b backend, cluster string, want *NodeCounts) (*problem, error) {
	nodes, err := b.Nodes(cluster)
	if err != nil {
		return nil, err
	}
	if want != nil {
		if got := countContainers(nodes); got != *want {
			return &problem{Detail: fmt.Sprintf("it has %s, the lab wants %s", got, *want)}, nil
		}
	}
	if prob, err := p.stoppedContainer(ctx, nodes); prob != nil || err != nil {
		return prob, err
	}
	kubeconfig, err := b.Kubeconfig(cluster)
	if err != nil {
		// kubeadm writes admin.conf last: without it, creation stopped half-way.
		return &problem{Detail: "it has no kubeconfig yet (its creation did not finish)"}, nil
	}
	ready, err := p.probe(ctx, []byte(kubeconfig))
	if err != nil {
		return &problem{Detail: fmt.Sprintf("its API server does not answer: %v", err), Settling: true}, nil
	}
	return readinessProblem(ready, want), nil
}

// stoppedContainer is a problem when a node's container is not running.
func (p *Provider) stoppedContainer(ctx context.Context, nodes []node) (*problem, error) {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	states, err := containerStates(ctx, p.run, names)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if state := states[name]; state != "running" {
			return &problem{Detail: fmt.Sprintf("container %s is %s", name, orUnknown(state))}, nil
		}
	}
	return nil, nil
}

// readinessProblem compares the nodes the API server knows with the wanted ones.
func readinessProblem(ready []nodeReadiness, want *NodeCounts) *problem {
	if want != nil && len(ready) < want.Total() {
		return &problem{Detail: fmt.Sprintf("only %d of its %d nodes joined the cluster", len(ready), want.Total()), APIUp: true}
	}
	for _, n := range ready {
		if !n.Ready {
			return &problem{Detail: fmt.Sprintf("node %s is not Ready", n.Name), APIUp: true, Settling: true}
		}
	}
	return nil
}

// waitHealthy diagnoses a cluster until it is healthy, its problem cannot settle, or
// the budget runs out; it returns the last problem.
func (p *Provider) waitHealthy(ctx context.Context, b backend, cluster string, want NodeCounts, budget time.Duration) (*problem, error) {
	deadline := time.Now().Add(budget)
	for {
		prob, err := p.diagnose(ctx, b, cluster, &want)
		if err != nil || prob == nil || !prob.Settling || time.Now().After(deadline) {
			return prob, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(p.pollEvery):
		}
	}
}

// countContainers counts kind's node containers by role; the load balancer kind adds
// for several control planes is not a node.
func countContainers(nodes []node) NodeCounts {
	var c NodeCounts
	for _, n := range nodes {
		switch n.Role {
		case "control-plane":
			c.ControlPlanes++
		case "worker":
			c.Workers++
		}
	}
	return c
}

func (c NodeCounts) String() string {
	return fmt.Sprintf("%d control-plane and %d worker node(s)", c.ControlPlanes, c.Workers)
}

func orUnknown(state string) string {
	if state == "" {
		return "gone"
	}
	return state
}
