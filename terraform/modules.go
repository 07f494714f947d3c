// Package terraform holds the Terraform modules lab bundles, one directory each (aks,
// eks, gke, kind), embedded into the binary. The terraform cluster provider copies a
// module into the lab's own directory and runs it there with the lab file's vars.
package terraform

import "embed"

// Modules holds every bundled module under its name: eks/main.tf, eks/variables.tf, ...
//
//go:embed aks eks gke kind
var Modules embed.FS
