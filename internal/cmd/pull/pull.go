// Package pull is `lab pull`: prepare a lab for a classroom without network.
package pull

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Options of `lab pull`.
type Options struct {
	File    string
	Lab     string
	Profile string
	// Bundle is the offline bundle directory to fill (--bundle); empty lists only.
	Bundle    string
	NodeImage string
	// bundleSet is true when --bundle was given, even empty.
	bundleSet bool
}

// NewCmd builds `lab pull`; runF replaces the run function in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "pull [-f lab.yaml | --lab NAME] [--profile lite|full] [--bundle DIR [--node-image REF]]",
		Short: "Fetch every chart a lab needs into the cache and list its images, or pack an offline bundle",
		Long: `Prepare a lab for a classroom without network. Upstream charts of the lab's stacks
are downloaded, checked against the sha256 digest lab pins (a mismatch is refused)
and kept in lab's cache ($XDG_CACHE_HOME/lab/charts); bundled charts are in the
binary already. Then every chart is rendered and the container images it runs are
listed on stdout, one per line with the stacks using them, for loading into the
nodes beforehand (kind load docker-image, or a registry mirror).

Afterwards "lab up --offline" installs from the cache only.

With --bundle DIR, lab packs an offline bundle for a classroom of kind labs without
any registry: the kind node image (the one lab picks for the lab's kubernetesVersion,
or --node-image) and every image of the stacks, each taken from the local Docker when
it has the image and pulled otherwise, saved as DIR/images/*.tar; the upstream charts
in DIR/charts; and DIR/manifest.json, written last, with each archive's sha256 and
size. Running it again keeps the archives that still match. Copy DIR to the laptops
and run "lab up --bundle DIR" there (see docs/offline.md).`,
		Example: `  lab pull
  lab pull --lab full -o json
  lab pull | awk 'NR > 1 {print $1}' | xargs -n1 docker pull

  # An offline bundle for the default lab, to copy to a USB stick
  lab pull --bundle /media/usb/lab-bundle

  # With a node image of your own (like kind create cluster --image)
  lab pull --bundle ./bundle --node-image kindest/node:v1.35.8`,
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
	fl.StringVar(&opts.Lab, "lab", "", "a lab definition built into lab")
	fl.StringVar(&opts.Profile, "profile", "", "lite or full (default: the lab's profile)")
	fl.StringVar(&opts.Bundle, "bundle", "", "pack an offline bundle into this directory: images, charts, manifest (see docs/offline.md)")
	fl.StringVar(&opts.NodeImage, "node-image", "", "with --bundle: the kind node image to pack (default: the one lab picks for the lab's kubernetesVersion)")
	cmd.MarkFlagsMutuallyExclusive("file", "lab")
	cmd.MarkFlagDirname("bundle")
	cmd.MarkFlagFilename("file", "yaml", "yml")
	cmd.RegisterFlagCompletionFunc("lab", cmdutil.FixedCompletion(spec.EmbeddedLabNames()...))
	cmd.RegisterFlagCompletionFunc("profile", cmdutil.FixedCompletion(spec.ProfileLite, spec.ProfileFull))
	return cmd
}

// imageRef is what a container image reference may look like (no spaces, no
// scheme), enough to refuse a typo before Docker runs.
var imageRef = regexp.MustCompile(`^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9._-]+(/[a-z0-9._-]+)*(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$`)

// validate checks the flags before anything runs.
func validate(opts *Options) error {
	if err := cmdutil.ValidProfile(opts.Profile); err != nil {
		return err
	}
	if opts.bundleSet && strings.TrimSpace(opts.Bundle) == "" {
		return errs.Invalidf("name the bundle directory: --bundle DIR", "--bundle needs a directory")
	}
	if opts.NodeImage != "" && !opts.bundleSet {
		return errs.Invalidf("add --bundle DIR: the node image is packed into a bundle", "--node-image needs --bundle")
	}
	if opts.NodeImage != "" && !imageRef.MatchString(opts.NodeImage) {
		return errs.Invalidf("give an image reference such as kindest/node:v1.36.4 or registry.example/node:v1.36.4@sha256:<64 hex>",
			"--node-image %q is not an image reference", opts.NodeImage)
	}
	if opts.bundleSet {
		if info, err := os.Stat(opts.Bundle); err == nil && !info.IsDir() {
			return errs.Invalidf("name a directory (it is created when missing)", "--bundle %s is a file, not a directory", opts.Bundle)
		}
	}
	return nil
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	def, _, err := cmdutil.LoadDefinition(opts.File, opts.Lab, f.IO.In)
	if err != nil {
		return err
	}
	if opts.bundleSet {
		return runBundle(ctx, f, opts, def, format)
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

// extraImages are the images a bundle carries beside the stacks': the chaos hogs', and
// those of every bundled scenario that can run on this lab (its stacks are the lab's),
// tagged "scenario/NAME".
func extraImages(def *spec.Lab) ([]bundle.Image, error) {
	extra := []bundle.Image{{Ref: chaos.HogImage, Stacks: []string{"chaos"}}}
	cat, err := scenario.Embedded(scenario.Validation{})
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, s := range cat.Scenarios {
		if !subset(s.Spec.Stacks, def.Spec.Stacks) {
			continue
		}
		for _, img := range s.Spec.Images {
			users[img] = append(users[img], "scenario/"+s.Metadata.Name)
		}
	}
	for _, img := range slices.Sorted(maps.Keys(users)) {
		extra = append(extra, bundle.Image{Ref: img, Stacks: users[img]})
	}
	return extra, nil
}

func subset(some, all []string) bool {
	return !slices.ContainsFunc(some, func(s string) bool { return !slices.Contains(all, s) })
}

// runBundle is `lab pull --bundle`: progress on stderr, the manifest (or a table of
// it) on stdout.
func runBundle(ctx context.Context, f *cmdutil.Factory, opts *Options, def *spec.Lab, format ui.Format) error {
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	extra, err := extraImages(def)
	if err != nil {
		return err
	}
	m, err := f.Manager(progress).PullBundle(ctx, lab.PullBundleOptions{
		Lab: def, Profile: opts.Profile, Dir: opts.Bundle, NodeImage: opts.NodeImage, LabVersion: f.Build.Version,
		Extra: extra,
	})
	if err != nil {
		return err
	}
	// With -o json the event stream is stdout, so it ends with a result event (as
	// `lab up` does); the manifest itself is DIR/manifest.json.
	progress.Emit(event.Event{Type: event.Result, Message: "bundle " + opts.Bundle + " is ready", Fields: map[string]string{
		"dir": opts.Bundle, "manifest": filepath.Join(opts.Bundle, bundle.ManifestFile), "lab": m.Lab, "profile": m.Profile,
		"kubernetesVersion": m.KubernetesVersion, "nodeImage": m.NodeImage.Ref, "images": fmt.Sprint(len(m.Images)), "size": fmt.Sprint(m.TotalSize()),
	}})
	progress.Close()
	if format == ui.FormatJSON {
		return nil
	}
	if err := f.IO.Printer(format).Print(m, func() ui.View { return BundleTable(m) }); err != nil {
		return err
	}
	if format == ui.FormatTable {
		f.IO.Notef("Next: copy %s to each laptop, then run there: lab up --bundle DIR (with the same -f/--lab)", opts.Bundle)
	}
	return nil
}

// BundleTable lists a bundle's archives with their sizes and where each image came from.
func BundleTable(m *bundle.Manifest) *ui.Table {
	t := ui.NewTable("IMAGE", "SIZE", "SOURCE", "ARCHIVE")
	t.AddRow(m.NodeImage.Ref+" (node, Kubernetes "+m.KubernetesVersion+")", bundle.FormatSize(m.NodeImage.Size), m.NodeImage.Source, m.NodeImage.Archive)
	for _, img := range m.Images {
		t.AddRow(img.Ref, bundle.FormatSize(img.Size), img.Source, img.Archive)
	}
	for _, c := range m.Charts {
		if c.Archive != "" {
			t.AddRow("chart "+c.Chart+" "+c.Version, bundle.FormatSize(c.Size), c.Source, c.Archive)
		}
	}
	return t
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
