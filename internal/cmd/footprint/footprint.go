// Package footprint is `lab footprint`: what a lab's stacks request and are limited to.
package footprint

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of `lab footprint`.
type Options struct {
	File    string
	Lab     string
	Profile string
	Offline bool
}

// NewCmd builds `lab footprint`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "footprint [-f lab.yaml | --lab NAME] [--profile lite|full]",
		Short: "Show the CPU and memory a lab's stacks request",
		Long: `Render every chart of a lab's stacks, as "lab up" would install them, and sum the
CPU and memory their pods request and are limited to, per stack and in total. No
cluster is needed. Requests are what the scheduler reserves: the nodes (or Docker's
memory, for kind) must hold at least that much. DaemonSets count one pod per node of
the lab; Jobs are left out.`,
		Example: `  # The default lab
  lab footprint

  # The full lab with the lite profile, as JSON
  lab footprint --lab full --profile lite -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "lab definition file (kind: Lab)")
	fl.StringVar(&opts.Lab, "lab", "", "a lab definition built into lab")
	fl.StringVar(&opts.Profile, "profile", "", "lite or full (default: the lab's profile)")
	fl.BoolVar(&opts.Offline, "offline", false, "take upstream charts from lab's cache only (filled by lab pull)")
	cmd.MarkFlagsMutuallyExclusive("file", "lab")
	cmd.MarkFlagFilename("file", "yaml", "yml")
	cmd.RegisterFlagCompletionFunc("lab", cmdutil.FixedCompletion(spec.EmbeddedLabNames()...))
	cmd.RegisterFlagCompletionFunc("profile", cmdutil.FixedCompletion(spec.ProfileLite, spec.ProfileFull))
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	if err := cmdutil.ValidProfile(opts.Profile); err != nil {
		return err
	}
	def, _, err := cmdutil.LoadDefinition(opts.File, opts.Lab, f.IO.In)
	if err != nil {
		return err
	}
	fp, err := f.Manager(event.Discard).Footprint(def, opts.Profile, opts.Offline)
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(fp, func() ui.View { return Table(fp) })
}

// Table is the human view: one row per stack, then the total.
func Table(fp *stack.Footprint) *ui.Table {
	t := ui.NewTable("STACK", "PODS", "CPU REQUESTS", "CPU LIMITS", "MEMORY REQUESTS", "MEMORY LIMITS")
	row := func(s stack.StackFootprint) {
		memLimits := stack.FormatMemory(s.MemoryLimitsBytes)
		if s.NoMemoryLimit > 0 {
			memLimits += fmt.Sprintf(" (+%d unlimited)", s.NoMemoryLimit)
		}
		t.AddRow(s.Stack, fmt.Sprint(s.Pods), stack.FormatCPU(s.CPURequestsMilli), stack.FormatCPU(s.CPULimitsMilli),
			stack.FormatMemory(s.MemoryRequestsBytes), memLimits)
	}
	for _, s := range fp.Stacks {
		row(s)
	}
	row(fp.Total)
	return t
}
