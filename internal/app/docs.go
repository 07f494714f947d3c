package app

import (
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/cloudnativelab/lab/internal/ui"
)

// WriteCLIReference writes one markdown page per command into dir (docs/cli).
func WriteCLIReference(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	io, _, _, _ := ui.Test()
	root := NewRootCmd(NewFactory(io))
	root.DisableAutoGenTag = true // no date line: regenerating an unchanged tree changes nothing
	return doc.GenMarkdownTree(root, dir)
}
