// Package open is `lab open`: reach a stack's web UI through a port-forward.
package open

import (
	"context"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
)

// Options of `lab open`.
type Options struct {
	Name    string
	Service string
	Port    int
	Browser bool
}

// NewCmd builds `lab open`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	names := []string{"grafana", "prometheus", "alertmanager", "shop", "rollouts"}
	cmd := &cobra.Command{
		Use:   "open grafana|prometheus|alertmanager|shop|rollouts",
		Short: "Port-forward to a stack's web UI and print its URL",
		Long: `Forward a local port (on 127.0.0.1) to a pod behind one of the stacks' Services,
print the URL, and keep forwarding until Ctrl-C. --browser opens the URL too.
For Grafana's login, see "lab creds grafana".

A simulated lab (sim) has nothing to open: its pods report Running but no container
runs, so the command refuses and says so.`,
		Example: `  lab open grafana
  lab open shop --port 8080 --browser`,
		ValidArgs: names,
		Args:      cmdutil.OneArg("service name", "lab open grafana"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Service = args[0]
			return run(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
	cmd.Flags().IntVar(&opts.Port, "port", 0, "local port to listen on (default: a free one)")
	cmd.Flags().BoolVar(&opts.Browser, "browser", false, "open the URL in a browser (xdg-open, or open on macOS)")
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	if opts.Port < 0 || opts.Port > 65535 {
		return errs.Invalidf("a port from 1 to 65535, or 0 for a free one", "invalid --port %d", opts.Port)
	}
	m := f.Manager(event.Discard)
	if opts.Name == "" {
		opts.Name = cmdutil.DefaultLabName(ctx, m)
	}
	return m.Open(ctx, opts.Name, opts.Service, lab.OpenOptions{
		LocalPort: opts.Port,
		Ready: func(url string) {
			// The URL is the data: stdout, alone on its line, for scripts.
			f.IO.Out.Write([]byte(url + "\n"))
			f.IO.Notef("Forwarding %s to %s of lab %q; Ctrl-C to stop", url, opts.Service, opts.Name)
			if opts.Browser {
				if err := browse(url); err != nil {
					f.IO.Notef("could not open a browser (%v): open %s yourself", err, url)
				}
			}
		},
	})
}

// browse opens url with the desktop's handler.
func browse(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	return exec.Command(name, url).Start()
}
