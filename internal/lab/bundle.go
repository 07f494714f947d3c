package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/state"
)

// PullBundleOptions are the options of `lab pull --bundle`.
type PullBundleOptions struct {
	Lab *spec.Lab
	// Profile overrides the lab's.
	Profile string
	// Dir is the bundle directory; it is created when missing.
	Dir string
	// NodeImage overrides the kind node image picked for the lab's kubernetesVersion.
	NodeImage string
	// LabVersion is this binary's version, for the manifest.
	LabVersion string
	// Extra are images lab itself runs beside the stacks' (the chaos hogs' image), so a
	// classroom without network can run those faults too.
	Extra []bundle.Image
}

// bundler is the provider that packs and loads bundles (kind).
func (m *Manager) bundler() (cluster.Bundler, error) {
	p, err := m.provider(spec.ProviderKind)
	if err != nil {
		return nil, err
	}
	b, ok := p.(cluster.Bundler)
	if !ok {
		return nil, errs.New(errs.Internal, "the kind provider cannot make or load bundles", "")
	}
	return b, nil
}

// PullBundle is `lab pull --bundle DIR`: the lab's upstream charts (fetched into the
// cache, then copied), the kind node image and every image of the lab's stacks as
// archives, and the manifest, written last.
func (m *Manager) PullBundle(ctx context.Context, opts PullBundleOptions) (*bundle.Manifest, error) {
	l := *opts.Lab
	if opts.Profile != "" {
		l.Spec.Profile = opts.Profile
	}
	if err := m.validateStacks(&l, ""); err != nil {
		return nil, err
	}
	dir, err := bundleDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	b, err := m.bundler()
	if err != nil {
		return nil, err
	}
	var contents *stack.PullResult
	if err := m.Events.Step(ctx, "Fetching charts and listing images", func(context.Context) error {
		contents, err = m.catalogFor(l).Pull(l.Spec.Stacks, profileOf(l), m.source(false))
		return err
	}); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot create the bundle directory", "name a directory you can write to")
	}
	// The manifest of an earlier run says which archives can be kept; one that
	// cannot be read just means every archive is made again.
	prev, _ := bundle.Read(dir)
	wanted := make([]bundle.Image, len(contents.Images))
	for i, img := range contents.Images {
		wanted[i] = bundle.Image{Ref: img.Name, Stacks: img.Stacks}
	}
	for _, img := range opts.Extra {
		if i := slices.IndexFunc(wanted, func(w bundle.Image) bool { return w.Ref == img.Ref }); i >= 0 {
			wanted[i].Stacks = append(slices.Clone(wanted[i].Stacks), img.Stacks...)
		} else {
			wanted = append(wanted, img)
		}
	}
	var saved *cluster.SavedImages
	title := fmt.Sprintf("Saving the node image and %d images into %s", len(wanted), filepath.Join(dir, bundle.ImagesDir))
	if err := m.Events.Step(ctx, title, func(ctx context.Context) error {
		saved, err = b.SaveImages(ctx, cluster.SaveRequest{
			Dir: dir, KubernetesVersion: l.Spec.Cluster.KubernetesVersion, NodeImage: opts.NodeImage, Images: wanted, Previous: prev,
		}, m.Events)
		return err
	}); err != nil {
		return nil, stepError(ctx, err)
	}
	if want := l.Spec.Cluster.KubernetesVersion; !bundle.VersionMatches(want, saved.KubernetesVersion) {
		m.Events.Warn(fmt.Sprintf("the node image %s is Kubernetes %s but lab %q asks for kubernetesVersion %s: `lab up --bundle` refuses this bundle for that lab; use a lab file with kubernetesVersion: %s (or none)",
			saved.NodeImage.Ref, saved.KubernetesVersion, l.Metadata.Name, want, saved.KubernetesVersion))
	}
	charts, err := copyCharts(dir, contents.Charts)
	if err != nil {
		return nil, err
	}
	manifest := &bundle.Manifest{
		FormatVersion: bundle.FormatVersion, LabVersion: opts.LabVersion, CreatedAt: time.Now().UTC(),
		Lab: l.Metadata.Name, Profile: profileOf(l), KubernetesVersion: saved.KubernetesVersion,
		NodeImage: saved.NodeImage, Images: saved.Images, Charts: charts,
	}
	if err := bundle.Write(dir, manifest); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "cannot write the bundle's manifest", "")
	}
	m.Events.Info(fmt.Sprintf("bundle %s: %d images and the node image, %s in all; manifest written", dir, len(saved.Images), bundle.FormatSize(manifest.TotalSize())))
	return manifest, nil
}

// bundleDir is the absolute path of a bundle directory, which the record keeps.
func bundleDir(dir string) (string, error) {
	if strings.TrimSpace(dir) == "" {
		return "", errs.Invalidf("name the bundle directory: --bundle DIR", "--bundle needs a directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "bad bundle directory "+dir, "")
	}
	return abs, nil
}

// copyCharts copies the upstream charts from lab's cache into the bundle, where the
// cache keeps them too; bundled charts are listed only (they are in the binary).
func copyCharts(dir string, pulled []stack.PulledChart) ([]bundle.Chart, error) {
	out := make([]bundle.Chart, 0, len(pulled))
	for _, c := range pulled {
		bc := bundle.Chart{Stack: c.Stack, Chart: c.Chart, Version: c.Version, Source: c.Source, Digest: c.Digest}
		if c.Source != "bundled" {
			bc.Archive = bundle.ChartArchive(c.Chart, c.Version)
			data, err := os.ReadFile(c.Path)
			if err == nil {
				err = state.WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(bc.Archive)), data, 0o644)
			}
			if err == nil {
				bc.SHA256, bc.Size, err = bundle.FileDigest(filepath.Join(dir, filepath.FromSlash(bc.Archive)))
			}
			if err != nil {
				return nil, errs.Wrap(errs.Internal, err, "cannot copy chart "+c.Chart+" into the bundle", "")
			}
		}
		out = append(out, bc)
	}
	return out, nil
}

// openBundle reads and verifies the bundle a `lab up` uses (the one given, else the
// one the lab was brought up from), before anything is created, and checks that it
// serves this lab: its Kubernetes version, every image and chart of its stacks.
func (m *Manager) openBundle(ctx context.Context, dir string, rec *Record, lab spec.Lab) (*cluster.Bundle, error) {
	recorded := dir == "" && rec != nil && rec.Bundle != ""
	if recorded {
		dir = rec.Bundle
	}
	if dir == "" {
		return nil, nil
	}
	dir, err := bundleDir(dir)
	if err != nil {
		return nil, err
	}
	if recorded && !state.Exists(filepath.Join(dir, bundle.ManifestFile)) {
		return nil, errs.Invalidf("put the bundle back there, or give its new place with `lab up --bundle DIR`",
			"lab %q was brought up from the bundle %s, which is gone", rec.Name, dir)
	}
	var mf *bundle.Manifest
	if err := m.Events.Step(ctx, "Verifying bundle "+dir, func(context.Context) error {
		mf, err = bundle.Open(dir)
		return err
	}); err != nil {
		return nil, err
	}
	if want := lab.Spec.Cluster.KubernetesVersion; !bundle.VersionMatches(want, mf.KubernetesVersion) {
		return nil, errs.Invalidf(fmt.Sprintf("use a bundle made for Kubernetes %s, or set kubernetesVersion: %s in the lab file", want, mf.KubernetesVersion),
			"bundle %s holds Kubernetes %s (node image %s), but the lab asks for kubernetesVersion %s", dir, mf.KubernetesVersion, mf.NodeImage.Ref, want)
	}
	contents, err := m.catalogFor(lab).Contents(lab.Spec.Stacks, profileOf(lab), m.sourceOf(dir, true))
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, img := range contents.Images {
		if _, ok := mf.Image(img.Name); !ok {
			missing = append(missing, img.Name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, errs.Invalidf(fmt.Sprintf("make the bundle for this lab: `lab pull --bundle %s` with the same -f/--lab and --profile %s", dir, profileOf(lab)),
			"bundle %s (made for lab %q, profile %s) lacks images this lab runs: %s", dir, mf.Lab, mf.Profile, strings.Join(missing, ", "))
	}
	m.Events.Info(fmt.Sprintf("bundle %s: Kubernetes %s, %d images, %s, made by lab %s on %s", dir, mf.KubernetesVersion, len(mf.Images),
		bundle.FormatSize(mf.TotalSize()), mf.LabVersion, mf.CreatedAt.Format("2006-01-02")))
	return &cluster.Bundle{Dir: dir, Manifest: mf}, nil
}

// loadImages loads the bundle's images into the nodes that lack them.
func (m *Manager) loadImages(ctx context.Context, req cluster.Request, bdl *cluster.Bundle) error {
	if bdl == nil {
		return nil
	}
	b, err := m.bundler()
	if err != nil {
		return err
	}
	req.Bundle = bdl
	var size int64
	for _, img := range bdl.Manifest.Images {
		size += img.Size
	}
	title := fmt.Sprintf("Loading %d images (%s) from the bundle into the nodes", len(bdl.Manifest.Images), bundle.FormatSize(size))
	return m.Events.Step(ctx, title, func(ctx context.Context) error { return b.LoadImages(ctx, req, m.Events) })
}
