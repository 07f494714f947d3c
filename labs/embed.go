// Package labs holds the lab definitions built into the lab binary. Each <name>.yaml is a
// complete, commented lab that `lab` can create by name; internal/spec loads them.
package labs

import "embed"

// FS holds the built-in lab files, <name>.yaml at its root.
//
//go:embed *.yaml
var FS embed.FS
