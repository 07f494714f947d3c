package terraform

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

// moduleInterface is what a module declares that lab relies on: its variables (those
// without a default are required) and its outputs.
type moduleInterface struct {
	variables map[string]bool // name -> required
	outputs   []string
}

var (
	rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "output", LabelNames: []string{"name"}},
	}}
	variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "default"}}}
)

// moduleFS is the module's files: a bundled module from the binary, else the directory.
func (p *Provider) moduleFS(module string) (fs.FS, error) {
	if spec.IsTerraformPath(module) {
		if st, err := os.Stat(module); err != nil || !st.IsDir() {
			return nil, errs.Invalidf("give a directory of .tf files, relative to the lab file",
				"spec.cluster.terraform.module: %s is not a directory", module)
		}
		return os.DirFS(module), nil
	}
	sub, err := fs.Sub(p.modules, module)
	if err == nil {
		_, err = fs.Stat(sub, ".")
	}
	if err != nil {
		return nil, errs.Invalidf("see docs/providers.md", "spec.cluster.terraform.module: no bundled module %q", module)
	}
	return sub, nil
}

// readInterface parses the module's top-level .tf and .tf.json files.
func readInterface(fsys fs.FS, module string) (*moduleInterface, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	mi := &moduleInterface{variables: map[string]bool{}}
	parser := hclparse.NewParser()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")) {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		file, diags := parseFile(parser, data, path.Join(module, name))
		if diags.HasErrors() {
			return nil, errs.Wrap(errs.Invalid, diags, "the Terraform module does not parse", "")
		}
		content, _, _ := file.Body.PartialContent(rootSchema)
		for _, b := range content.Blocks {
			if b.Type == "output" {
				mi.outputs = append(mi.outputs, b.Labels[0])
				continue
			}
			attrs, _, _ := b.Body.PartialContent(variableSchema)
			_, hasDefault := attrs.Attributes["default"]
			mi.variables[b.Labels[0]] = !hasDefault
		}
	}
	return mi, nil
}

func parseFile(parser *hclparse.Parser, data []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if strings.HasSuffix(name, ".json") {
		return parser.ParseJSON(data, name)
	}
	return parser.ParseHCL(data, name)
}

// check holds the lab's vars against the module: lab passes name, the module outputs
// kubeconfig, every var is one the module declares, every required one is given.
func (mi *moduleInterface) check(module string, vars map[string]any) error {
	var problems []string
	if _, ok := mi.variables["name"]; !ok {
		problems = append(problems, fmt.Sprintf("module %s declares no variable \"name\" (lab passes the lab's name in it)", module))
	}
	if !slices.Contains(mi.outputs, "kubeconfig") {
		problems = append(problems, fmt.Sprintf("module %s has no output \"kubeconfig\" (lab reads the cluster's admin kubeconfig from it)", module))
	}
	declared := slices.Sorted(maps.Keys(mi.variables))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if _, ok := mi.variables[k]; k == "name" {
			problems = append(problems, "spec.cluster.terraform.vars.name: is set by lab, to the lab's name (metadata.name)")
		} else if !ok {
			problems = append(problems, fmt.Sprintf("spec.cluster.terraform.vars.%s: module %s has no such variable (it has %s)", k, module, strings.Join(declared, ", ")))
		}
	}
	for _, k := range declared {
		if _, given := vars[k]; mi.variables[k] && !given && k != "name" {
			problems = append(problems, fmt.Sprintf("spec.cluster.terraform.vars.%s: is required by module %s (it has no default)", k, module))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errs.New(errs.Invalid, strings.Join(problems, "\n"),
		"docs/providers.md lists each bundled module's variables; a module of yours takes name and outputs kubeconfig")
}
