// Command gendocs writes the CLI reference (one markdown page per command) from the
// cobra tree, so docs/cli never drifts from the flags: `make docs`.
package main

import (
	"fmt"
	"os"

	"github.com/cloudnativelab/lab/internal/app"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := app.WriteCLIReference(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
