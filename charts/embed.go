// Package charts holds the Helm charts lab bundles (monitoring, demo-shop) and embeds
// them into the binary, so `lab up` installs stacks with no network access to a chart
// repository. Each chart also carries profiles/<profile>.yaml: values overlays (lite,
// full) the installer merges over the chart's values.yaml.
//
// The charts are plain Helm charts: `helm install ./charts/monitoring` works too.
package charts

import "embed"

// FS holds every bundled chart under its own directory. The all: prefix keeps files
// whose names start with . or _ (.helmignore, templates/_helpers.tpl), which go:embed
// would otherwise leave out.
//
//go:embed all:monitoring all:demo-shop
var FS embed.FS
