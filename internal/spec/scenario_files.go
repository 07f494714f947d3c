package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Placeholders are the names a step's markdown may write as {{name}}; lab replaces them
// when it prints the step, so instructions give commands that work as typed.
var Placeholders = []string{"context", "files", "lab", "namespace"}

// placeholder matches {{name}}, with optional spaces inside the braces.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// UnknownPlaceholders lists, once each, the placeholders of text that lab does not know.
func UnknownPlaceholders(text string) []string {
	var unknown []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(Placeholders, m[1]) && !slices.Contains(unknown, m[1]) {
			unknown = append(unknown, m[1])
		}
	}
	return unknown
}

// ExpandPlaceholders replaces {{name}} in text with values[name]; unknown names stay.
func ExpandPlaceholders(text string, values map[string]string) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if v, ok := values[name]; ok {
			return v
		}
		return m
	})
}

// ManifestFiles lists the manifest files an apply names: the file itself, or the
// .yaml and .yml files of a folder (not its subfolders), sorted so that authors order
// them with numbered names.
func ManifestFiles(fsys fs.FS, name string) ([]string, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{name}, nil
	}
	entries, err := fs.ReadDir(fsys, name)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if ext := path.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path.Join(name, e.Name()))
		}
	}
	return files, nil // fs.ReadDir sorts by name
}

// ParseManifests reads the Kubernetes objects of a multi-document YAML file. Empty
// documents are skipped; every other one must be a mapping with apiVersion, kind and
// metadata.name. Errors say file:line: document N: what is wrong.
func ParseManifests(file string, data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []map[string]any
	var problems []string
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", file, doc, err)
		}
		if len(n.Content) == 0 || isNull(n.Content[0]) {
			continue
		}
		obj, msg := manifestObject(&n)
		if msg != "" {
			problems = append(problems, fmt.Sprintf("%s:%d: document %d: %s", file, n.Content[0].Line, doc, msg))
			continue
		}
		objs = append(objs, obj)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return objs, nil
}

func manifestObject(n *yaml.Node) (map[string]any, string) {
	var obj map[string]any
	if err := n.Decode(&obj); err != nil {
		return nil, "is not a Kubernetes object (a mapping): " + err.Error()
	}
	for _, field := range []string{"apiVersion", "kind"} {
		if s, _ := obj[field].(string); s == "" {
			return nil, field + " is required"
		}
	}
	meta, _ := obj["metadata"].(map[string]any)
	if name, _ := meta["name"].(string); name == "" {
		return nil, "metadata.name is required"
	}
	return obj, ""
}
