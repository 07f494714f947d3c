// Package scenarios holds the scenarios built into lab: one folder per scenario, with
// its scenario.yaml, the markdown of its steps, its setup and solution manifests, and
// the files a trainee works with. `lab scenario list` shows them; `--dir` loads a
// folder written the same way instead.
package scenarios

import "embed"

// FS holds every scenario folder. The all: prefix keeps files whose names start with .
// or _ (a chart's .helmignore and templates/_helpers.tpl).
//
//go:embed all:*
var FS embed.FS
