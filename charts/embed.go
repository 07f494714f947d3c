// Package charts holds the Helm charts lab bundles (monitoring, demo-shop, delivery)
// and embeds them into the binary, so `lab up` installs stacks with no network access
// to a chart repository. Each chart also carries profiles/<profile>.yaml: values
// overlays (lite, full) the installer merges over the chart's values.yaml. This package
// only holds the files: internal/stack loads them with Helm.
//
// The charts are plain Helm charts: `helm install ./charts/monitoring` works too.
package charts

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// FS holds every bundled chart under its own directory. The all: prefix keeps files
// whose names start with . or _ (.helmignore, templates/_helpers.tpl), which go:embed
// would otherwise leave out.
//
//go:embed all:monitoring all:demo-shop all:delivery
var FS embed.FS

// Names returns the bundled charts' names, sorted: every top-level directory of FS
// that holds a Chart.yaml.
func Names() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		// FS is compiled in; a read error here is a broken build, not a user error.
		panic(fmt.Sprintf("charts: reading the embedded charts: %v", err))
	}
	var names []string
	for _, e := range entries {
		if _, err := fs.Stat(FS, path.Join(e.Name(), "Chart.yaml")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}
