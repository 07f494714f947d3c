// Package version is `lab version`.
package version

import (
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Info is what `lab version` prints.
type Info struct {
	cmdutil.BuildInfo
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// NewCmd builds `lab version`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print lab's version",
		Example: "  lab version\n  lab version -o json",
		Args:    cmdutil.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			format, err := f.Format()
			if err != nil {
				return err
			}
			info := Info{BuildInfo: f.Build, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			return f.IO.Printer(format).Print(info, func() ui.View {
				return ui.NewDetails().Add("Version", info.Version).Add("Commit", info.Commit).
					Add("Go", info.Go).Add("Platform", info.Platform)
			})
		},
	}
}
