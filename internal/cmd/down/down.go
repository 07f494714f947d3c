// Package down is `lab down`.
package down

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
)

// Options of `lab down`.
type Options struct {
	Name  string
	Force bool
}

// NewCmd builds `lab down`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Delete a lab: its cluster, its kubeconfig context and its files",
		Long: `Delete a lab. For clusters lab created (kind, sim) the cluster goes with it; on an
adopted cluster (existing) only what lab installed is removed. Deleting a lab that
does not exist succeeds with a note, so "lab down" is always safe to run.

Faults that "lab chaos" still holds on the lab are reverted first; the "lab chaos run"
holding one sees it reverted and ends.

When the cluster cannot be deleted because its provider does not answer (Docker
stopped), "lab down" stops and says so, unless lab knows the cluster was never made
(its creation failed): such a lab is forgotten. --force forgets any lab whose cluster
cannot be deleted, and says what may be left behind and how to remove it.`,
		Example: `  lab down
  lab down --name week2

  # Docker is gone for good: forget the kind lab anyway
  lab down --name week2 --force`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "forget the lab even when its cluster cannot be deleted (its provider does not answer), saying what may be left behind")
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	m := f.Manager(progress)
	if opts.Name == "" {
		if opts.Name, err = cmdutil.PickLab(ctx, m); err != nil {
			return err
		}
	}
	res, err := m.DownWith(ctx, lab.DownOptions{Name: opts.Name, Force: opts.Force})
	if err != nil {
		return err
	}
	progress.Emit(resultEvent(res))
	return nil
}

func resultEvent(res *lab.DownResult) event.Event {
	msg := "lab \"" + res.Name + "\" deleted"
	switch {
	case !res.Existed:
		msg = "no lab named \"" + res.Name + "\": nothing to delete"
	case res.LeftBehind != "":
		msg = "lab \"" + res.Name + "\" forgotten; its cluster was not deleted"
	}
	fields := map[string]string{"name": res.Name, "existed": boolString(res.Existed)}
	if res.LeftBehind != "" {
		fields["leftBehind"] = res.LeftBehind
	}
	return event.Event{Type: event.Result, Message: msg, Fields: fields}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
