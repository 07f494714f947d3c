package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/cloudnativelab/lab/internal/errs"
)

// labHint follows every list of problems in a lab file.
const labHint = "the built-in labs default and full are commented examples of every field"

// LabEnv is what a lab file is checked against beyond its own text; a nil field is
// not checked.
type LabEnv struct {
	// Stacks are the stack catalog's names: spec.stacks must name them, and an unknown
	// one is reported at its line.
	Stacks []string
}

// LoadLab reads a lab file strictly, applies defaults and validates it, with env when
// one is given (at most one). The error lists every problem, each as file:line: field:
// message, and is an errs.Invalid wrapping an ErrorList.
func LoadLab(file string, data []byte, env ...LabEnv) (*Lab, error) {
	var lab Lab
	src, err := DecodeVersioned(file, data, APIVersion, KindLab, &lab)
	if src == nil {
		return nil, err
	}
	src.Hint = labHint
	lab.checkExplicitCounts(src)
	lab.Default()
	lab.validate(src, firstEnv(env))
	if err := src.Err(); err != nil {
		return nil, err
	}
	return &lab, nil
}

func firstEnv(env []LabEnv) LabEnv {
	if len(env) == 0 {
		return LabEnv{}
	}
	return env[0]
}

// LoadLabFile is LoadLab for a file on disk.
func LoadLabFile(path string, env ...LabEnv) (*Lab, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Invalidf("check the path, or use a built-in lab", "lab file %s does not exist", path)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read lab file", "")
	}
	lab, err := LoadLab(path, data, env...)
	if err != nil {
		return nil, err
	}
	lab.resolvePaths(filepath.Dir(path))
	return lab, nil
}

// resolvePaths makes a relative module directory relative to the lab file, not to
// wherever lab runs, and absolute, as the lab's record keeps it.
func (l *Lab) resolvePaths(dir string) {
	tf := l.Spec.Cluster.Terraform
	if tf == nil || !IsTerraformPath(tf.Module) || filepath.IsAbs(tf.Module) {
		return
	}
	if abs, err := filepath.Abs(filepath.Join(dir, tf.Module)); err == nil {
		tf.Module = abs
	}
}

// Default fills what a lab file may leave out. It is what LoadLab applies; call it on a
// Lab built in code before Validate.
func (l *Lab) Default() {
	if l.APIVersion == "" {
		l.APIVersion = APIVersion
	}
	if l.Kind == "" {
		l.Kind = KindLab
	}
	if l.Spec.Profile == "" {
		l.Spec.Profile = ProfileLite
	}
	l.Spec.Cluster.Default()
}

// Default fills provider, kubernetesVersion and nodes; Ports stay nil when unset, since
// nil means the provider's default and differs from an empty list.
func (c *ClusterSpec) Default() {
	if c.Provider == "" {
		c.Provider = ProviderAuto
	}
	if c.KubernetesVersion == "" {
		c.KubernetesVersion = DefaultKubernetesVersion
	}
	if c.Nodes == nil {
		c.Nodes = defaultNodes()
	}
	for i := range c.Nodes {
		if c.Nodes[i].Count == 0 {
			c.Nodes[i].Count = 1
		}
	}
}

// defaultNodes is the cluster of a lab that does not list nodes: one control-plane and
// one worker, so workloads do not share a node with the API server.
func defaultNodes() []NodeGroup {
	return []NodeGroup{{Role: RoleControlPlane, Count: 1}, {Role: RoleWorker, Count: 1}}
}

// Validate checks a Lab built in code (after Default). Errors name fields but carry no
// file or line; LoadLab reports the same checks with lines.
func (l *Lab) Validate() error {
	src := NewSource("")
	src.Hint = labHint
	l.validate(src, LabEnv{})
	return src.Err()
}

// NodeCount is the number of nodes, as the cluster will have them after defaults.
func (c ClusterSpec) NodeCount() int {
	return c.ControlPlanes() + c.Workers()
}

// ControlPlanes is the number of control-plane nodes, after defaults.
func (c ClusterSpec) ControlPlanes() int {
	return c.countRole(RoleControlPlane)
}

// Workers is the number of worker nodes, after defaults.
func (c ClusterSpec) Workers() int {
	return c.countRole(RoleWorker)
}

func (c ClusterSpec) countRole(role string) int {
	c.Nodes = slices.Clone(c.Nodes) // Default must not write to the caller's slice
	c.Default()
	n := 0
	for _, g := range c.Nodes {
		if g.Role == role {
			n += g.Count
		}
	}
	return n
}
