package kind

import (
	"bytes"
	"fmt"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

// DefaultPorts are mapped when a lab leaves ports unset: HTTP and HTTPS for ingress.
var DefaultPorts = []int{80, 443}

// ingressReadyLabel marks the node that holds the host ports; ingress-nginx's kind
// manifest schedules its controller there (https://kind.sigs.k8s.io/docs/user/ingress/).
const ingressReadyLabel = "ingress-ready"

// ClusterName is the kind cluster name of a lab; the prefix keeps lab's clusters apart
// from clusters the user made with kind directly.
func ClusterName(labName string) string { return "lab-" + labName }

// NodeCounts is how many nodes of each role a cluster has.
type NodeCounts struct {
	ControlPlanes int
	Workers       int
}

// Total is the number of Kubernetes nodes.
func (c NodeCounts) Total() int { return c.ControlPlanes + c.Workers }

// CountNodes sums a spec's node groups. No groups means one control-plane node; a group
// without a count is one node.
func CountNodes(cs spec.ClusterSpec) (NodeCounts, error) {
	if len(cs.Nodes) == 0 {
		return NodeCounts{ControlPlanes: 1}, nil
	}
	var counts NodeCounts
	for _, group := range cs.Nodes {
		n, err := groupSize(group)
		if err != nil {
			return NodeCounts{}, err
		}
		switch group.Role {
		case spec.RoleControlPlane:
			counts.ControlPlanes += n
		case spec.RoleWorker:
			counts.Workers += n
		default:
			return NodeCounts{}, errs.Invalidf("use role control-plane or worker",
				"node role %q is not a kind node role", group.Role)
		}
	}
	if counts.ControlPlanes == 0 {
		return NodeCounts{}, errs.Invalidf("add a node group with role control-plane",
			"a kind cluster needs at least one control-plane node")
	}
	return counts, nil
}

func groupSize(group spec.NodeGroup) (int, error) {
	switch {
	case group.Count < 0:
		return 0, errs.Invalidf("set count to 1 or more",
			"node group %q has a negative count (%d)", group.Role, group.Count)
	case group.Count == 0:
		return 1, nil
	default:
		return group.Count, nil
	}
}

// HostPorts are the ports a spec maps from the host: nil means DefaultPorts, an empty
// list means none.
func HostPorts(cs spec.ClusterSpec) ([]int, error) {
	if cs.Ports == nil {
		return DefaultPorts, nil
	}
	seen := map[int]bool{}
	for _, port := range cs.Ports {
		if port < 1 || port > 65535 {
			return nil, errs.Invalidf("use ports between 1 and 65535 in `ports:`",
				"port %d is not a TCP port", port)
		}
		if seen[port] {
			return nil, errs.Invalidf("list each port once in `ports:`", "port %d is listed twice", port)
		}
		seen[port] = true
	}
	return cs.Ports, nil
}

// ClusterConfig is the kind configuration for a lab's cluster.
func ClusterConfig(labName string, cs spec.ClusterSpec) (*v1alpha4.Cluster, error) {
	counts, err := CountNodes(cs)
	if err != nil {
		return nil, err
	}
	ports, err := HostPorts(cs)
	if err != nil {
		return nil, err
	}
	image, err := NodeImage(cs.KubernetesVersion)
	if err != nil {
		return nil, err
	}
	return clusterConfig(labName, counts, ports, image), nil
}

// clusterConfig builds the configuration of a validated shape with a node image.
func clusterConfig(labName string, counts NodeCounts, ports []int, image string) *v1alpha4.Cluster {
	cfg := &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Name:     ClusterName(labName),
		// Loopback, kind's default, written out so it never depends on one: the API
		// server's port must not be reachable from the network the laptop is on.
		Networking: v1alpha4.Networking{APIServerAddress: loopback},
	}
	for i := 0; i < counts.ControlPlanes; i++ {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.ControlPlaneRole, Image: image})
	}
	for i := 0; i < counts.Workers; i++ {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: image})
	}
	// Only the first control-plane node gets the host ports: a host port can be bound
	// by one container only.
	ingress := &cfg.Nodes[0]
	ingress.Labels = map[string]string{ingressReadyLabel: "true"}
	ingress.ExtraPortMappings = portMappings(ports)
	return cfg
}

// loopback is where a kind lab's API server and host ports listen.
const loopback = "127.0.0.1"

func portMappings(ports []int) []v1alpha4.PortMapping {
	mappings := make([]v1alpha4.PortMapping, 0, len(ports))
	for _, port := range ports {
		mappings = append(mappings, v1alpha4.PortMapping{
			// kind binds 0.0.0.0 by default, which would serve the lab's ingress
			// (Grafana, the demo shop) to the whole network.
			ListenAddress: loopback,
			ContainerPort: int32(port),
			HostPort:      int32(port),
			Protocol:      v1alpha4.PortMappingProtocolTCP,
		})
	}
	return mappings
}

// ConfigYAML renders a kind configuration as `kind create cluster --config` reads it,
// with the YAML library and tags kind itself uses.
func ConfigYAML(cfg *v1alpha4.Cluster) ([]byte, error) {
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("render kind config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render kind config: %w", err)
	}
	return out.Bytes(), nil
}
