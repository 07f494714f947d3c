// Command lab creates Kubernetes practice labs, breaks them on purpose and grades the
// fixes. All of it lives in internal/app.
package main

import (
	"os"

	"github.com/cloudnativelab/lab/internal/app"
)

func main() { os.Exit(app.Main()) }
