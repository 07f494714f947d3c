package spec

import (
	"slices"
	"testing"
)

func TestDiffCluster(t *testing.T) {
	t.Parallel()
	base := ClusterSpec{
		Provider: ProviderKind, KubernetesVersion: "v1.35",
		Nodes: []NodeGroup{{RoleControlPlane, 1}, {RoleWorker, 1}},
		Ports: []int{80, 443},
	}
	with := func(change func(*ClusterSpec)) ClusterSpec {
		c := base
		c.Nodes = slices.Clone(base.Nodes)
		change(&c)
		return c
	}
	tests := []struct {
		name string
		to   ClusterSpec
		want []string
	}{
		{"identical", base, nil},
		{"version", with(func(c *ClusterSpec) { c.KubernetesVersion = "v1.36" }), []string{"kubernetesVersion: v1.35 -> v1.36"}},
		{"provider", with(func(c *ClusterSpec) { c.Provider = ProviderSim }), []string{"provider: kind -> sim"}},
		{"more workers", with(func(c *ClusterSpec) { c.Nodes[1].Count = 2 }),
			[]string{"nodes: 1 control-plane + 1 worker -> 1 control-plane + 2 workers"}},
		{"no workers", with(func(c *ClusterSpec) { c.Nodes = c.Nodes[:1] }),
			[]string{"nodes: 1 control-plane + 1 worker -> 1 control-plane"}},
		{"groups of a role are summed", with(func(c *ClusterSpec) {
			c.Nodes = []NodeGroup{{RoleWorker, 1}, {RoleControlPlane, 0}}
		}), nil},
		{"omitted nodes are the default", with(func(c *ClusterSpec) { c.Nodes = nil }), nil},
		{"ports", with(func(c *ClusterSpec) { c.Ports = []int{8080} }), []string{"ports: [80 443] -> [8080]"}},
		{"port order does not matter", with(func(c *ClusterSpec) { c.Ports = []int{443, 80} }), nil},
		{"no ports", with(func(c *ClusterSpec) { c.Ports = []int{} }), []string{"ports: [80 443] -> []"}},
		{"nil ports are not resolved here", with(func(c *ClusterSpec) { c.Ports = nil }), []string{"ports: [80 443] -> (provider default)"}},
		{"context", with(func(c *ClusterSpec) { c.Context = "other" }), []string{"context: (current context) -> other"}},
		{"allowChaos is not shape", with(func(c *ClusterSpec) { c.AllowChaos = true }), nil},
		{"several, in a fixed order", with(func(c *ClusterSpec) {
			c.Ports = nil
			c.Nodes = append(c.Nodes, NodeGroup{RoleWorker, 2})
			c.KubernetesVersion = "v1.30.2"
		}), []string{
			"kubernetesVersion: v1.35 -> v1.30.2",
			"nodes: 1 control-plane + 1 worker -> 1 control-plane + 3 workers",
			"ports: [80 443] -> (provider default)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DiffCluster(base, tt.to); !slices.Equal(got, tt.want) {
				t.Errorf("DiffCluster() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDiffClusterDefaultsEmptyFields(t *testing.T) {
	t.Parallel()
	explicit := ClusterSpec{Provider: ProviderAuto, KubernetesVersion: DefaultKubernetesVersion,
		Nodes: []NodeGroup{{RoleControlPlane, 1}, {RoleWorker, 1}}}
	if got := DiffCluster(ClusterSpec{}, explicit); got != nil {
		t.Errorf("an empty spec differs from its defaults: %q", got)
	}
}
