// Package creds is `lab creds`: the logins a lab's stacks generated.
package creds

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of `lab creds`.
type Options struct {
	Name    string
	Service string
}

// NewCmd builds `lab creds`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "creds grafana",
		Short: "Print the admin login a stack generated (Grafana's)",
		Long: `Print the user and password of a service's admin login, generated when its stack
was installed and kept in a Secret of the stack's namespace (monitoring/grafana-admin
for Grafana). -o json prints them for scripts.`,
		Example: `  lab creds grafana
  lab creds grafana -o json | jq -r .password`,
		ValidArgs: []string{"grafana"},
		Args:      cmdutil.OneArg("service name", "lab creds grafana"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Service = args[0]
			return run(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	m := f.Manager(event.Discard)
	if opts.Name == "" {
		opts.Name = cmdutil.DefaultLabName(ctx, m)
	}
	c, err := m.Creds(ctx, opts.Name, opts.Service)
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(c, func() ui.View { return Details(c) })
}

// Details is the human view of a login.
func Details(c *lab.Credentials) *ui.Details {
	return ui.NewDetails().
		Add("User", c.User).
		Add("Password", c.Password).
		Add("Secret", c.Secret).
		Note("open it with `" + c.URLHint + "`")
}
