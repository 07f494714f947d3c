package spec

import (
	"fmt"
	"slices"
	"strings"
)

// DiffCluster lists, one line per field, how the cluster-shaping fields differ from `from`
// to `to`: provider, kubernetesVersion, nodes, ports, context and terraform.module. An
// empty result means the existing cluster fits the new spec; anything else needs the
// cluster recreated.
// allowChaos is consent, not shape, and is not compared.
//
// Both specs are compared after Default (omitted nodes are one control-plane and one
// worker) and with node groups of the same role summed, so "2 workers" equals two groups
// of one. Resolving provider "auto" and equating nil ports (the provider's default) with
// that default written out are provider knowledge: the caller does them first.
func DiffCluster(from, to ClusterSpec) []string {
	var diff []string
	add := func(field, old, updated string) {
		if old != updated {
			diff = append(diff, fmt.Sprintf("%s: %s -> %s", field, old, updated))
		}
	}
	add("provider", orDefault(from.Provider, ProviderAuto), orDefault(to.Provider, ProviderAuto))
	add("kubernetesVersion", orDefault(from.KubernetesVersion, DefaultKubernetesVersion), orDefault(to.KubernetesVersion, DefaultKubernetesVersion))
	add("nodes", describeNodes(from), describeNodes(to))
	add("ports", describePorts(from.Ports), describePorts(to.Ports))
	add("context", describeContext(from.Context), describeContext(to.Context))
	add("terraform.module", describeModule(from.Terraform), describeModule(to.Terraform))
	return diff
}

// describeModule is the Terraform module; its vars are not shape: Terraform applies a
// change of them to the cluster it made.
func describeModule(tf *TerraformSpec) string {
	if tf == nil {
		return "(none)"
	}
	return tf.Module
}

func orDefault(value, def string) string {
	if value == "" {
		return def
	}
	return value
}

// describeNodes is the node shape in words: "1 control-plane + 2 workers". Roles other
// than the two known ones cannot pass validation, so they are not described.
func describeNodes(c ClusterSpec) string {
	parts := []string{plural(c.ControlPlanes(), RoleControlPlane, RoleControlPlane)}
	if workers := c.Workers(); workers > 0 {
		parts = append(parts, plural(workers, "worker", "workers"))
	}
	return strings.Join(parts, " + ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// describePorts is the sorted port list; order does not shape the cluster.
func describePorts(ports []int) string {
	if ports == nil {
		return "(provider default)"
	}
	sorted := slices.Sorted(slices.Values(ports))
	return fmt.Sprint(sorted)
}

func describeContext(context string) string {
	if context == "" {
		return "(current context)"
	}
	return context
}
