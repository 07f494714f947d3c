package spec

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Limits of a lab.
const (
	// MaxNameLength keeps the cluster and kubeconfig context names derived from
	// metadata.name within the limits of kind and Docker.
	MaxNameLength = 40
	// MaxNodes bounds a lab's nodes in total and per group: more will not fit on a laptop.
	MaxNodes = 10
)

// dnsLabel is an RFC 1123 label, the form of Kubernetes names that end up in hostnames.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validate records every problem of a defaulted lab in src.
func (l *Lab) validate(src *Source, env LabEnv) {
	validateName(src, "metadata.name", l.Metadata.Name)
	l.Spec.Cluster.validate(src, "spec.cluster")
	validateStacks(src, "spec.stacks", l.Spec.Stacks, env.Stacks)
	validateOneOf(src, "spec.profile", l.Spec.Profile, ProfileLite, ProfileFull)
	validateValues(src, "spec.values", l.Spec.Values, l.Spec.Stacks)
}

// validateValues accepts values only for stacks the lab installs: values for a stack it
// does not list would be silently unused.
func validateValues(src *Source, path string, values map[string]map[string]any, stacks []string) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(stacks, name) {
			src.Addf(path+"."+name, "names stack %q, which spec.stacks does not list (values apply to the lab's own stacks)", name)
		}
	}
}

func validateName(src *Source, path, name string) {
	switch {
	case name == "":
		src.Addf(path, "is required")
	case !dnsLabel.MatchString(name):
		src.Addf(path, "must be lowercase letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label), got %q", name)
	case len(name) > MaxNameLength:
		src.Addf(path, "must be at most %d characters (it names the cluster and its kubeconfig context), got %d", MaxNameLength, len(name))
	}
}

func (c ClusterSpec) validate(src *Source, path string) {
	validateOneOf(src, path+".provider", c.Provider, ProviderAuto, ProviderKind, ProviderSim, ProviderExisting, ProviderTerraform)
	if _, err := ParseKubernetesVersion(c.KubernetesVersion); err != nil {
		src.Addf(path+".kubernetesVersion", "%v", err)
	}
	validateNodes(src, path+".nodes", c.Nodes)
	validatePorts(src, path+".ports", c.Ports)
	if c.Provider != ProviderExisting {
		if c.Context != "" {
			src.Addf(path+".context", "is only allowed with provider %q (it names the kubeconfig context to adopt)", ProviderExisting)
		}
		if c.AllowChaos {
			src.Addf(path+".allowChaos", "is only allowed with provider %q (chaos is always allowed on clusters a lab creates)", ProviderExisting)
		}
	}
	c.validateTerraform(src, path)
}

// validateTerraform: provider terraform needs a module, bundled or a path; the module
// is not allowed with another provider, where it would be silently unused.
func (c ClusterSpec) validateTerraform(src *Source, path string) {
	tf, path := c.Terraform, path+".terraform"
	switch {
	case c.Provider != ProviderTerraform && tf != nil:
		src.Addf(path, "is only allowed with provider %q", ProviderTerraform)
	case c.Provider != ProviderTerraform:
	case tf == nil || tf.Module == "":
		src.Addf(path+".module", "is required with provider %q: a bundled module (%s) or a directory (./my-module)",
			ProviderTerraform, strings.Join(TerraformModules, ", "))
	case !IsTerraformPath(tf.Module) && !slices.Contains(TerraformModules, tf.Module):
		msg := fmt.Sprintf("must be a bundled module (%s) or a directory starting with ./, ../ or /, got %q",
			strings.Join(TerraformModules, ", "), tf.Module)
		if guess := closest(tf.Module, TerraformModules); guess != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", guess)
		}
		src.Addf(path+".module", "%s", msg)
	}
}

// checkExplicitCounts rejects "count: 0" written in the file, before Default turns the
// zero of an omitted count into 1.
func (l *Lab) checkExplicitCounts(src *Source) {
	for i, g := range l.Spec.Cluster.Nodes {
		path := indexPath("spec.cluster.nodes", i) + ".count"
		if g.Count == 0 && src.Has(path) {
			src.Addf(path, "must be between 1 and %d, got 0 (leave count out for one node)", MaxNodes)
		}
	}
}

// validateNodes checks each group, then the cluster they make: exactly one control-plane
// node, at most MaxNodes nodes.
func validateNodes(src *Source, path string, groups []NodeGroup) {
	controlPlanes, total, groupsOK := 0, 0, true
	for i, g := range groups {
		groupPath := indexPath(path, i)
		groupsOK = validateRole(src, groupPath+".role", g.Role) && groupsOK
		if g.Count < 1 || g.Count > MaxNodes {
			src.Addf(groupPath+".count", "must be between 1 and %d, got %d", MaxNodes, g.Count)
			groupsOK = false
			continue
		}
		total += g.Count
		if g.Role == RoleControlPlane {
			if controlPlanes+g.Count > 1 && controlPlanes <= 1 {
				src.Addf(excessPath(groupPath, g), "exactly one control-plane node is needed; multi-control-plane labs are not supported yet")
			}
			controlPlanes += g.Count
		}
	}
	// A group with a bad role or count may be the control plane meant; saying none was
	// found would then mislead.
	if controlPlanes == 0 && groupsOK {
		src.Addf(path, "exactly one control-plane node is needed, found none")
	}
	if total > MaxNodes {
		src.Addf(path, "a lab has at most %d nodes, this one has %d", MaxNodes, total)
	}
}

// excessPath is where to report the control-plane group that brings a second
// control-plane node: its count when that says more than one, else the group itself.
func excessPath(groupPath string, g NodeGroup) string {
	if g.Count > 1 {
		return groupPath + ".count"
	}
	return groupPath
}

func validateRole(src *Source, path, role string) bool {
	if role == "" {
		src.Addf(path, "is required (%s or %s)", RoleControlPlane, RoleWorker)
		return false
	}
	return validateOneOf(src, path, role, RoleControlPlane, RoleWorker)
}

func validatePorts(src *Source, path string, ports []int) {
	firstIndex := map[int]int{}
	for i, port := range ports {
		portPath := indexPath(path, i)
		if port < 1 || port > 65535 {
			src.Addf(portPath, "must be between 1 and 65535, got %d", port)
			continue
		}
		if j, dup := firstIndex[port]; dup {
			src.Addf(portPath, "duplicate port %d (already at %s)", port, lastSegment(indexPath(path, j)))
			continue
		}
		firstIndex[port] = i
	}
}

func validateStacks(src *Source, path string, stacks, known []string) {
	firstIndex := map[string]int{}
	for i, stack := range stacks {
		stackPath := indexPath(path, i)
		if !dnsLabel.MatchString(stack) || len(stack) > 63 {
			src.Addf(stackPath, "must be a stack name: lowercase letters, digits and '-' (a DNS-1123 label), got %q", stack)
			continue
		}
		if j, dup := firstIndex[stack]; dup {
			src.Addf(stackPath, "duplicate stack %q (already at %s)", stack, lastSegment(indexPath(path, j)))
			continue
		}
		firstIndex[stack] = i
		if known != nil {
			validateOneOf(src, stackPath, stack, known...)
		}
	}
}

// validateOneOf checks value against the allowed values, suggesting the closest on a typo.
func validateOneOf(src *Source, path, value string, allowed ...string) bool {
	for _, a := range allowed {
		if value == a {
			return true
		}
	}
	msg := fmt.Sprintf("must be one of %s, got %s", strings.Join(allowed, ", "), strconv.Quote(value))
	if guess := closest(value, allowed); guess != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", guess)
	}
	src.Addf(path, "%s", msg)
	return false
}

// lastSegment is the last field of a path with its index: spec.stacks[0] -> stacks[0].
func lastSegment(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// imageRef is a container image reference with a tag or a digest: lab loads images by
// exactly that name, so "latest" by omission is refused.
var imageRef = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$`)

func validateImage(src *Source, path, ref string) {
	if !imageRef.MatchString(ref) {
		src.Addf(path, "must be an image reference with a tag or digest, such as ghcr.io/stefanprodan/podinfo:6.9.2, got %q", ref)
	}
}
