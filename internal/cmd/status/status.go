// Package status is `lab status`.
package status

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of `lab status`.
type Options struct{ Name string }

// NewCmd builds `lab status`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a lab: provider, context, whether it runs, its nodes",
		Example: `  lab status
  lab status --name week2 -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	st, err := m.Status(ctx, opts.Name)
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(st, func() ui.View { return Details(st) })
}

// Details is the human view of a lab's status.
func Details(st *lab.Status) *ui.Details {
	d := ui.NewDetails().
		Add("Name", st.Name).
		Add("Provider", st.Provider).
		Add("Phase", string(st.Phase)).
		Add("State", string(st.State)).
		Add("Nodes", st.NodesCell()).
		Add("Context", st.Context).
		Add("Kubeconfig", st.Kubeconfig).
		Add("Stacks", orNone(strings.Join(st.Stacks, ", "))).
		Add("Source", st.Source)
	if st.Note != "" {
		d.Note(st.Note)
	}
	if st.Hint != "" {
		d.Add("Next", st.Hint)
	}
	return d
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
