// Package pull is `lab pull`: prepare a lab for a classroom without network.
package pull

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmd/footprint"
	"github.com/cloudnativelab/lab/internal/cmd/up"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of `lab pull`.
type Options struct {
	File    string
	Lab     string
	Profile string
}

// NewCmd builds `lab pull`; runF replaces the run function in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "pull [-f lab.yaml | --lab NAME] [--profile lite|full]",
		Short: "Fetch every chart a lab needs into the cache and list its images",
		Long: `Prepare a lab for a classroom without network. Upstream charts of the lab's stacks
are downloaded, checked against the sha256 digest lab pins (a mismatch is refused)
and kept in lab's cache ($XDG_CACHE_HOME/lab/charts); bundled charts are in the
binary already. Then every chart is rendered and the container images it runs are
listed on stdout, one per line with the stacks using them, for loading into the
nodes beforehand (kind load docker-image, or a registry mirror).

Afterwards "lab up --offline" installs from the cache only.`,
		Example: `  lab pull
  lab pull --lab full -o json
  lab pull | awk 'NR > 1 {print $1}' | xargs -n1 docker pull`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "lab definition file (kind: Lab)")
	fl.StringVar(&opts.Lab, "lab", "", "a lab definition built into lab")
	fl.StringVar(&opts.Profile, "profile", "", "lite or full (default: the lab's profile)")
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
	if err := footprint.ValidProfile(opts.Profile); err != nil {
		return err
	}
	def, _, err := up.LoadDefinition(opts.File, opts.Lab, f.IO.In)
	if err != nil {
		return err
	}
	res, err := f.Manager(event.Discard).Pull(def, opts.Profile)
	if err != nil {
		return err
	}
	if format == ui.FormatTable {
		for _, c := range res.Charts {
			f.IO.Notef("%s", chartNote(c))
		}
	}
	return f.IO.Printer(format).Print(res, func() ui.View { return Table(res) })
}

// chartNote says where a chart is: in the binary, fetched now, or cached already.
func chartNote(c stack.PulledChart) string {
	switch {
	case c.Source == "bundled":
		return "chart " + c.Chart + " " + c.Version + " (stack " + c.Stack + "): bundled in lab"
	case c.Fetched:
		return "chart " + c.Chart + " " + c.Version + " (stack " + c.Stack + "): fetched from " + c.Source + ", " + c.Digest + " verified, cached at " + c.Path
	default:
		return "chart " + c.Chart + " " + c.Version + " (stack " + c.Stack + "): already cached at " + c.Path
	}
}

// Table lists the images, with the stacks that run them.
func Table(res *stack.PullResult) *ui.Table {
	t := ui.NewTable("IMAGE", "STACKS")
	for _, img := range res.Images {
		t.AddRow(img.Name, strings.Join(img.Stacks, ", "))
	}
	return t
}
