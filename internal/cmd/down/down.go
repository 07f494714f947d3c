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
type Options struct{ Name string }

// NewCmd builds `lab down`; runF replaces the run function in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Delete a lab: its cluster, its kubeconfig context and its files",
		Long: `Delete a lab. For clusters lab created (kind, sim) the cluster goes with it; on an
adopted cluster (existing) only what lab installed is removed. Deleting a lab that
does not exist succeeds with a note, so "lab down" is always safe to run.`,
		Example: `  lab down
  lab down --name week2`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	f.AddNameFlag(cmd, &opts.Name)
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
		opts.Name = cmdutil.DefaultLabName(ctx, m)
	}
	res, err := m.Down(ctx, opts.Name)
	if err != nil {
		return err
	}
	progress.Emit(resultEvent(res))
	return nil
}

func resultEvent(res *lab.DownResult) event.Event {
	msg := "lab \"" + res.Name + "\" deleted"
	if !res.Existed {
		msg = "no lab named \"" + res.Name + "\": nothing to delete"
	}
	return event.Event{Type: event.Result, Message: msg, Fields: map[string]string{
		"name": res.Name, "existed": boolString(res.Existed),
	}}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
