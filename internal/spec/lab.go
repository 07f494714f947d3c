package spec

import "strings"

// APIVersion is the only apiVersion this build reads.
const APIVersion = "lab.cloudnativelab.io/v1alpha1"

// KindLab is the kind of a lab definition.
const KindLab = "Lab"

// Provider names.
const (
	ProviderAuto      = "auto"
	ProviderKind      = "kind"
	ProviderSim       = "sim"
	ProviderExisting  = "existing"
	ProviderTerraform = "terraform"
)

// TerraformModules are the Terraform modules bundled with lab, by the name a lab file
// gives in spec.cluster.terraform.module.
var TerraformModules = []string{"aks", "eks", "gke", "kind"}

// Node roles.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
)

// Profiles size the bundled stacks.
const (
	ProfileLite = "lite"
	ProfileFull = "full"
)

// Lab is a lab definition: the cluster to create and the stacks to install on it.
type Lab struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       LabSpec  `json:"spec"`
}

// Metadata names a lab.
type Metadata struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// LabSpec is what a lab holds.
type LabSpec struct {
	Cluster ClusterSpec `json:"cluster"`
	Stacks  []string    `json:"stacks,omitempty"`
	Profile string      `json:"profile,omitempty"`
	// Values are Helm values per stack, merged over the profile's values of every chart
	// of that stack (as `helm install -f` would); keys are stack names from Stacks. The
	// chart's values schema checks them when the stack is installed, rendered or pulled.
	Values map[string]map[string]any `json:"values,omitempty"`
}

// ClusterSpec shapes the cluster. Changing any of it on an existing lab needs --recreate.
type ClusterSpec struct {
	Provider          string      `json:"provider,omitempty"`
	KubernetesVersion string      `json:"kubernetesVersion,omitempty"`
	Nodes             []NodeGroup `json:"nodes,omitempty"`
	// Ports are host ports mapped to the same port on the control-plane node, for ingress.
	// nil means the provider's default (80 and 443 on kind); an empty list means none.
	Ports []int `json:"ports"`
	// Context is the kubeconfig context adopted by the existing provider.
	Context string `json:"context,omitempty"`
	// AllowChaos records consent to run chaos on an adopted (existing) cluster.
	AllowChaos bool `json:"allowChaos,omitempty"`
	// Terraform is the module the terraform provider makes the cluster with. The
	// module's variables shape that cluster: nodes and ports do not apply to it.
	Terraform *TerraformSpec `json:"terraform,omitempty"`
}

// TerraformSpec names a Terraform module and its input variables.
type TerraformSpec struct {
	// Module is a bundled module (one of TerraformModules) or a directory of .tf
	// files: a path that starts with ./, ../ or /, relative to the lab file.
	Module string `json:"module"`
	// Vars are the module's input variables, written to a .tfvars.json file.
	Vars map[string]any `json:"vars,omitempty"`
}

// IsTerraformPath tells a module given as a directory from a bundled module's name.
func IsTerraformPath(module string) bool {
	return strings.HasPrefix(module, "./") || strings.HasPrefix(module, "../") || strings.HasPrefix(module, "/")
}

// NodeGroup is Count nodes of one role.
type NodeGroup struct {
	Role  string `json:"role"`
	Count int    `json:"count,omitempty"`
}
