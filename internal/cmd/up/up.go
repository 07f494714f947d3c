// Package up is `lab up`: flags to options, one engine call, render.
package up

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of `lab up`.
type Options struct {
	File       string
	Lab        string
	Name       string
	Provider   string
	Recreate   bool
	AllowChaos bool
	Offline    bool
	Bundle     string
	bundleSet  bool
}

// NewCmd builds `lab up`; runF replaces the run function in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "up [-f lab.yaml | --lab NAME]",
		Short: "Create a lab, or bring an existing one to its definition",
		Long: `Create a lab: a Kubernetes cluster with the stacks a course needs.

The cluster comes from a provider: kind when Docker answers, otherwise a simulated
cluster (sim) that needs no Docker; --provider existing adopts a cluster you already
have; provider terraform (in the lab file, with its module and vars) makes one in a
cloud, or on kind, with a Terraform module: lab shows the plan and its estimated cost
and asks before applying (--yes answers). Then the lab's stacks are installed from Helm charts built into lab (or pinned
upstream charts), after the stacks they depend on, and lab waits until each works;
a stack that does not come up is diagnosed (which pods, why, what to do).

Running "lab up" again is safe: an existing lab that matches its definition is left
alone (a stack whose chart version and values did not change is not upgraded), an
interrupted one is finished, a stopped one is started again on its own data (a
simulated cluster whose API server died keeps its objects), and a lab whose cluster
shape changed is refused unless --recreate. --recreate also replaces a cluster that
is stopped or broken, with an empty one.

Adopting a cluster (--provider existing) asks before installing stacks into it (--yes
answers), and refuses a context whose cluster is already another lab's. "lab up" makes
the lab's context kubectl's current context, and says which one it replaced.

With --bundle DIR (made by "lab pull --bundle DIR" on a machine with network), the
lab comes up on kind with no registry at all: the bundle's manifest and every archive
are verified first (a missing or corrupt file is refused, exit 2, before anything is
created), the node image is loaded into Docker, the cluster is created from it, every
image is loaded into every node, and the stacks are installed from the bundle's
charts. The lab remembers the bundle: a later "lab up" keeps using it.`,
		Example: `  # The default lab: kind if Docker runs, else simulated
  lab up

  # The lab with every stack
  lab up --lab full

  # Your own lab definition, under another name
  lab up -f lab.yaml --name week2

  # Adopt the cluster of a kubeconfig context (and allow chaos drills on it)
  lab up --provider existing --context my-cluster --allow-chaos

  # A cluster in a cloud, from a lab file with provider terraform and module eks
  lab up -f eks-lab.yaml

  # In a classroom without network: charts from the cache "lab pull" filled
  lab up --offline

  # In a classroom without network or registry: everything from a bundle
  lab up --bundle /media/usb/lab-bundle`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.bundleSet = cmd.Flags().Changed("bundle")
			if err := validate(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "lab definition file (kind: Lab)")
	fl.StringVar(&opts.Lab, "lab", "", "a lab definition built into lab: "+joinNames())
	fl.StringVar(&opts.Name, "name", "", "name of the lab (default: the definition's metadata.name)")
	fl.StringVar(&opts.Provider, "provider", "", "cluster provider: auto, kind, sim, existing or terraform (default: the definition's)")
	fl.BoolVar(&opts.Recreate, "recreate", false, "delete and create the lab again (empty) when its cluster shape changed, or when its cluster is stopped or broken")
	fl.BoolVar(&opts.AllowChaos, "allow-chaos", false, "with --provider existing: allow lab chaos to act on the adopted cluster")
	fl.BoolVar(&opts.Offline, "offline", false, "take upstream charts from lab's cache only (filled by lab pull), naming any that are missing")
	fl.StringVar(&opts.Bundle, "bundle", "", "bring the lab up on kind from an offline bundle made by lab pull --bundle: node image, images and charts, verified first")
	cmd.MarkFlagsMutuallyExclusive("file", "lab")
	cmd.MarkFlagDirname("bundle")
	cmd.MarkFlagFilename("file", "yaml", "yml")
	cmd.RegisterFlagCompletionFunc("lab", cmdutil.FixedCompletion(spec.EmbeddedLabNames()...))
	cmd.RegisterFlagCompletionFunc("provider", cmdutil.FixedCompletion("auto", "kind", "sim", "existing", "terraform"))
	cmd.RegisterFlagCompletionFunc("name", f.CompleteLabNames)
	return cmd
}

func joinNames() string {
	s := ""
	for i, n := range spec.EmbeddedLabNames() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// validate checks the flags before anything runs.
func validate(opts *Options) error {
	if err := validProvider(opts.Provider); err != nil {
		return err
	}
	if opts.bundleSet && strings.TrimSpace(opts.Bundle) == "" {
		return errs.Invalidf("name the bundle directory: --bundle DIR", "--bundle needs a directory")
	}
	if opts.bundleSet && opts.Provider != "" && opts.Provider != spec.ProviderAuto && opts.Provider != spec.ProviderKind {
		return errs.Invalidf("drop --provider, or use --provider kind",
			"--bundle brings up a kind cluster; it cannot be used with --provider %s", opts.Provider)
	}
	return nil
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	def, source, err := cmdutil.LoadDefinition(opts.File, opts.Lab, f.IO.In)
	if err != nil {
		return err
	}
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	m := f.Manager(progress)
	res, err := m.Up(ctx, lab.UpOptions{
		Lab: def, Name: opts.Name, Source: source, Provider: opts.Provider,
		Context: f.Globals.Context, Recreate: opts.Recreate, AllowChaos: opts.AllowChaos, Confirm: f.Confirm,
		Offline: opts.Offline, Bundle: opts.Bundle,
	})
	if err != nil {
		return err
	}
	progress.Emit(resultEvent(res))
	progress.Close()
	if format, _ := f.Format(); format == ui.FormatTable {
		printNextSteps(f.IO, res)
	}
	return nil
}

func validProvider(p string) error {
	switch p {
	case "", spec.ProviderAuto, spec.ProviderKind, spec.ProviderSim, spec.ProviderExisting, spec.ProviderTerraform:
		return nil
	}
	return errs.Invalidf("use one of auto, kind, sim, existing, terraform", "invalid --provider %q", p)
}

// resultEvent closes the event stream with what a script needs to use the lab.
func resultEvent(res *lab.UpResult) event.Event {
	r := res.Record
	msg := fmt.Sprintf("lab %q is ready", r.Name)
	if res.AlreadyUp {
		msg = fmt.Sprintf("lab %q is already up", r.Name)
	}
	return event.Event{Type: event.Result, Message: msg, Fields: map[string]string{
		"name": r.Name, "provider": r.Provider, "context": r.Context, "kubeconfig": r.Kubeconfig,
		"alreadyUp": fmt.Sprint(res.AlreadyUp),
	}}
}

func printNextSteps(io *ui.IO, res *lab.UpResult) {
	r := res.Record
	io.Notef("Next: kubectl --context %s get nodes", r.Context)
	io.Notef("      lab status --name %s", r.Name)
	if len(r.Stacks) > 0 {
		io.Notef("      lab stacks list --name %s", r.Name)
	}
}
