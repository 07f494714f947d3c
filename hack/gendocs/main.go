// Command gendocs writes the CLI reference (one markdown page per command) from the
// cobra tree, so docs/cli never drifts from the flags: `make docs`.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/ui"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	io, _, _, _ := ui.Test()
	root := app.NewRootCmd(app.NewFactory(io))
	root.DisableAutoGenTag = true // no date line: regenerating an unchanged tree changes nothing
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
