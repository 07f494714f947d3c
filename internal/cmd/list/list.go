// Package list is `lab list`.
package list

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/ui"
)

// NewCmd builds `lab list`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the labs on this machine",
		Example: `  lab list
  lab list -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), f)
		},
	}
}

func run(ctx context.Context, f *cmdutil.Factory) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	labs, err := f.Manager(event.Discard).List(ctx)
	if err != nil {
		return err
	}
	if len(labs) == 0 && format == ui.FormatTable {
		f.IO.Notef("No labs yet. Create one with `lab up`.")
		return nil
	}
	return f.IO.Printer(format).Print(labs, func() ui.View { return table(labs) })
}

func table(labs []*lab.Status) *ui.Table {
	t := ui.NewTable("NAME", "PROVIDER", "PHASE", "STATE", "NODES", "CONTEXT")
	for _, l := range labs {
		t.AddRow(l.Name, l.Provider, string(l.Phase), string(l.State), l.NodesCell(), l.Context)
	}
	return t
}
