package chaos

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/ui"
)

// StatusOptions of `lab chaos status`.
type StatusOptions struct{ Name string }

// NewStatusCmd builds `lab chaos status`.
func NewStatusCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the faults still active on a lab, with their age and remaining time",
		Long: `List the faults of a lab's chaos journal that are not reverted yet: held by a
running "lab chaos run" (which reverts them when their time is up), or left by a lab
process that is gone, which "lab chaos revert" undoes.`,
		Example: `  lab chaos status
  lab chaos status -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func runStatus(ctx context.Context, f *cmdutil.Factory, opts *StatusOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	l, err := resolveLab(ctx, f, opts.Name)
	if err != nil {
		return err
	}
	active, err := newEngine(f, event.Discard).Status(l)
	if err != nil {
		return err
	}
	if len(active) == 0 && format == ui.FormatTable {
		f.IO.Notef("No active faults on lab %q.", l.Name)
		return nil
	}
	return f.IO.Printer(format).Print(active, func() ui.View { return statusTable(active) })
}

func statusTable(active []chaos.EntryStatus) *ui.Table {
	t := ui.NewTable("ID", "FAULT", "PHASE", "AGE", "REMAINING", "WHAT", "NOTE")
	for _, s := range active {
		t.AddRow(s.ID, s.Fault, string(s.Phase), roundDuration(s.Age), remaining(s), s.Summary, s.Note)
	}
	return t
}

func remaining(s chaos.EntryStatus) string {
	switch {
	case s.ExpiresAt == nil:
		return "-"
	case s.Remaining < 0:
		return "overdue " + roundDuration(-s.Remaining)
	default:
		return roundDuration(s.Remaining)
	}
}

func roundDuration(d time.Duration) string { return d.Round(time.Second).String() }
