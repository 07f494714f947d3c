package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

// RevertOptions of `lab chaos revert`.
type RevertOptions struct {
	Name string
	IDs  []string
	All  bool
}

// NewRevertCmd builds `lab chaos revert`.
func NewRevertCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &RevertOptions{}
	cmd := &cobra.Command{
		Use:   "revert [ID...] [--all]",
		Short: "Undo faults of the chaos journal: the ones named, or every active one",
		Long: `Undo faults from the lab's chaos journal, with what the journal recorded before
they were injected: the original replica count, the saved ConfigMap or Secret value,
the Deployment's pod template, a node's cordon state, the hog pods to delete.

Reverting is idempotent: a fault reverted already is skipped, and one whose revert
fails stays active with its error, for "lab chaos status" to show.`,
		Example: `  lab chaos revert scale-3f2a1c
  lab chaos revert --all`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IDs = args
			if opts.All == (len(args) > 0) {
				return errs.Invalidf("`lab chaos status` lists the active faults and their ids",
					"%s needs fault ids or --all (not both)", cmd.CommandPath())
			}
			return runRevert(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "revert every active fault of the lab")
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func runRevert(ctx context.Context, f *cmdutil.Factory, opts *RevertOptions) error {
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	l, err := resolveLab(ctx, f, opts.Name)
	if err != nil {
		return err
	}
	outcomes, err := newEngine(f, progress).Revert(ctx, l, opts.IDs, opts.All)
	if err != nil {
		return err
	}
	var reverted, skipped []string
	for _, o := range outcomes {
		if o.Result == "reverted" {
			reverted = append(reverted, o.ID)
		} else {
			skipped = append(skipped, o.ID)
		}
	}
	msg := fmt.Sprintf("%d fault(s) reverted", len(reverted))
	if len(outcomes) == 0 {
		msg = fmt.Sprintf("no active faults on lab %q: nothing to revert", l.Name)
	}
	progress.Emit(event.Event{Type: event.Result, Message: msg, Fields: map[string]string{
		"lab": l.Name, "reverted": strings.Join(reverted, ","), "alreadyReverted": strings.Join(skipped, ","),
	}})
	return nil
}
