// Package kubeconfig is `lab kubeconfig`.
package kubeconfig

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
)

// Options of `lab kubeconfig`.
type Options struct{ Name string }

// NewCmd builds `lab kubeconfig`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print a lab's admin kubeconfig",
		Long: `Print a lab's admin kubeconfig (one context) to standard output. "lab up" already
merges the context into your kubeconfig; this is for tools that want a file of their own.`,
		Example: `  lab kubeconfig > lab.kubeconfig
  KUBECONFIG=lab.kubeconfig kubectl get nodes`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	m := f.Manager(event.Discard)
	if opts.Name == "" {
		opts.Name = cmdutil.DefaultLabName(ctx, m)
	}
	data, err := m.Kubeconfig(opts.Name)
	if err != nil {
		return err
	}
	_, err = f.IO.Out.Write(data)
	return err
}
