package chaos

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/ui"
)

// ListOptions of `lab chaos list`.
type ListOptions struct{ Name string }

// NewListCmd builds `lab chaos list`.
func NewListCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every fault, whether it can run on this lab, and why not",
		Example: `  lab chaos list
  lab chaos list --name week2 -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func runList(ctx context.Context, f *cmdutil.Factory, opts *ListOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	l, err := resolveLab(ctx, f, opts.Name)
	if err != nil {
		return err
	}
	faults, err := newEngine(f, event.Discard).List(ctx, l)
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(faults, func() ui.View { return faultTable(faults) })
}

func faultTable(faults []chaos.FaultInfo) *ui.Table {
	t := ui.NewTable("FAULT", "RUNS HERE", "WHAT IT DOES / WHY NOT", "FLAGS")
	for _, fi := range faults {
		detail := fi.Summary
		if fi.Support.Reason != "" {
			detail = fi.Support.Reason
		}
		t.AddRow(fi.Name, string(fi.Support.Level), detail, strings.Join(fi.Flags, " "))
	}
	return t
}
