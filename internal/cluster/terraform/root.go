package terraform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

const (
	// rootFile is the generated configuration of a lab's root.
	rootFile = "main.tf.json"
	// moduleDir is where a bundled module is copied, beside rootFile.
	moduleDir = "module"
	// stateFile is the local backend's state, in the root.
	stateFile = "terraform.tfstate"
)

// writeRoot writes the lab's root: a copy of a bundled module (fresh each time, so a
// new lab build brings its module's changes) and main.tf.json, which calls the module
// with name and the lab's vars and outputs its kubeconfig.
func (p *Provider) writeRoot(req cluster.Request) error {
	tf := req.Cluster.Terraform
	if tf == nil {
		return errs.Invalidf("set spec.cluster.terraform.module", "provider terraform needs a module")
	}
	root := rootDir(req)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	source := tf.Module
	if !spec.IsTerraformPath(source) {
		if err := p.copyModule(tf.Module, filepath.Join(root, moduleDir)); err != nil {
			return err
		}
		source = "./" + moduleDir
	}
	data, err := rootConfig(req.Name, source, tf.Vars)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, rootFile), data, 0o600)
}

// rootConfig is main.tf.json. Strings in vars are escaped so that Terraform takes them
// as they are written: "${" in a JSON configuration would start an interpolation.
func rootConfig(name, source string, vars map[string]any) ([]byte, error) {
	args := map[string]any{"source": source}
	for k, v := range vars {
		args[k] = escapeTemplates(v)
	}
	args["name"] = name
	return json.MarshalIndent(map[string]any{
		"module": map[string]any{"cluster": args},
		"output": map[string]any{"kubeconfig": map[string]any{
			"value": "${module.cluster.kubeconfig}", "sensitive": true,
		}},
	}, "", "  ")
}

func escapeTemplates(v any) any {
	switch v := v.(type) {
	case string:
		return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = escapeTemplates(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = escapeTemplates(e)
		}
		return out
	}
	return v
}

// copyModule replaces dst with the bundled module name.
func (p *Provider) copyModule(name, dst string) error {
	sub, err := p.moduleFS(name)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.CopyFS(dst, sub)
}

// protectState keeps the state, which holds the cluster's credentials, to its owner.
func protectState(req cluster.Request) error {
	err := os.Chmod(filepath.Join(rootDir(req), stateFile), 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// state is what lab reads of a Terraform state (format version 4): no terraform run
// is needed to say whether a cluster exists or to hand out its kubeconfig.
type state struct {
	Outputs   map[string]struct{ Value any } `json:"outputs"`
	Resources []struct {
		Module    string `json:"module"`
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []json.RawMessage
	} `json:"resources"`
}

func readState(req cluster.Request) (*state, error) {
	data, err := os.ReadFile(filepath.Join(rootDir(req), stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &state{}, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("reading the Terraform state: %w", err)
	}
	return &st, nil
}

// addresses are the managed resources that have instances: what exists.
func (s *state) addresses() []string {
	var out []string
	for _, r := range s.Resources {
		if r.Mode != "managed" || len(r.Instances) == 0 {
			continue
		}
		addr := r.Type + "." + r.Name
		if r.Module != "" {
			addr = r.Module + "." + addr
		}
		out = append(out, addr)
	}
	return out
}

func (s *state) empty() bool { return len(s.addresses()) == 0 }

func (s *state) output(name string) (string, bool) {
	o, ok := s.Outputs[name]
	if !ok {
		return "", false
	}
	v, ok := o.Value.(string)
	return v, ok && v != ""
}
