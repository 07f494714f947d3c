package kind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

var _ cluster.Bundler = (*Provider)(nil)

// noRegistryHint names both ways to a lab when Docker cannot pull.
const noRegistryHint = "Bring the images on an offline bundle: `lab pull --bundle DIR` on a machine with network, " +
	"then `lab up --bundle DIR` here (see docs/offline.md); or use `--provider sim` for a lab that needs no images"

// imageInfo is the part of `docker image inspect` that bundles use.
type imageInfo struct {
	ID     string `json:"Id"`
	Config struct {
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
}

func (i imageInfo) label(name string) string { return i.Config.Labels[name] }

// inspectImage asks Docker for an image by reference or ID; found is false when
// Docker does not have it.
func (p *Provider) inspectImage(ctx context.Context, ref string) (info imageInfo, found bool, err error) {
	stdout, stderr, runErr := p.run(ctx, "docker", "image", "inspect", "--format", "{{json .}}", ref)
	if runErr != nil {
		if ctx.Err() != nil {
			return imageInfo{}, false, ctx.Err()
		}
		if strings.Contains(strings.ToLower(string(stderr)), "no such image") {
			return imageInfo{}, false, nil
		}
		return imageInfo{}, false, p.kindError(ctx, errors.New(firstLine(stderr, runErr)), "inspect image "+ref)
	}
	if err := json.Unmarshal(lastJSONLine(stdout), &info); err != nil || info.ID == "" {
		return imageInfo{}, false, errs.New(errs.Internal, "docker image inspect "+ref+" did not answer with an image", "")
	}
	return info, true, nil
}

// pullImage runs `docker pull`; a failure says that no registry answered, with
// Docker's reason.
func (p *Provider) pullImage(ctx context.Context, ref string) error {
	_, stderr, err := p.run(ctx, "docker", "pull", ref)
	if err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New(firstLine(stderr, err))
}

// ensureImage returns the local image of a reference, pulling it when Docker lacks it.
func (p *Provider) ensureImage(ctx context.Context, ref string, ev *event.Emitter) (imageInfo, error) {
	info, found, err := p.inspectImage(ctx, ref)
	if err != nil || found {
		return info, err
	}
	ev.Info("pulling " + ref)
	if err := p.pullImage(ctx, ref); err != nil {
		return imageInfo{}, err
	}
	info, found, err = p.inspectImage(ctx, ref)
	if err == nil && !found {
		err = errs.New(errs.Internal, "docker pull "+ref+" succeeded but Docker does not list the image", "")
	}
	return info, err
}

// checkNodeImage is the preflight's: the node image is in Docker, or can be pulled.
// Without it kind would fail minutes later, after "Ensuring node image".
func (p *Provider) checkNodeImage(ctx context.Context, image string, ev *event.Emitter) error {
	_, found, err := p.inspectImage(ctx, image)
	if err != nil || found {
		return err
	}
	ev.Info("the kind node image " + image + " is not in Docker yet: pulling it (once)")
	if err := p.pullImage(ctx, image); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return errs.Wrap(errs.Unavailable, err,
			fmt.Sprintf("the kind node image %s is not in Docker and cannot be pulled: no registry answered", image), noRegistryHint)
	}
	return nil
}

// SaveImages packs the node image and the stacks' images into req.Dir/images: each
// from the local Docker when it has the image, else pulled; then `docker save`d,
// unless the previous manifest's archive of the same image still matches.
func (p *Provider) SaveImages(ctx context.Context, req cluster.SaveRequest, ev *event.Emitter) (*cluster.SavedImages, error) {
	if _, err := readDockerInfo(ctx, p.run, p.dockerTimeout); err != nil {
		return nil, err
	}
	nodeRef := req.NodeImage
	if nodeRef == "" {
		var err error
		if nodeRef, err = NodeImage(req.KubernetesVersion); err != nil {
			return nil, err
		}
	}
	// Every image is found or pulled first, so that all those no registry has are
	// named at once, before minutes of saving.
	refs := append([]string{nodeRef}, refsOf(req.Images)...)
	infos := make(map[string]imageInfo, len(refs))
	var unpullable []string
	for _, ref := range refs {
		info, err := p.ensureImage(ctx, ref, ev)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errs.KindOf(err) != errs.Internal:
			return nil, err // Docker itself went away
		case err != nil:
			unpullable = append(unpullable, ref+" ("+err.Error()+")")
		default:
			infos[ref] = info
		}
	}
	if len(unpullable) > 0 {
		return nil, errs.New(errs.Unavailable,
			fmt.Sprintf("%d image(s) are not in the local Docker and no registry answered to pull them:\n  %s", len(unpullable), strings.Join(unpullable, "\n  ")),
			"Build or load them into Docker under these exact references (docker build -t REF, docker load), or run `lab pull --bundle` where the registries answer")
	}
	version, err := nodeImageVersion(nodeRef, infos[nodeRef])
	if err != nil {
		return nil, err
	}
	saved := &cluster.SavedImages{KubernetesVersion: version}
	if saved.NodeImage, err = p.saveImage(ctx, req, bundle.Image{Ref: nodeRef}, infos[nodeRef], ev); err != nil {
		return nil, err
	}
	for _, want := range req.Images {
		img, err := p.saveImage(ctx, req, want, infos[want.Ref], ev)
		if err != nil {
			return nil, err
		}
		saved.Images = append(saved.Images, img)
	}
	return saved, nil
}

func refsOf(images []bundle.Image) []string {
	refs := make([]string, len(images))
	for i, img := range images {
		refs[i] = img.Ref
	}
	return refs
}

// nodeImageVersion is the Kubernetes version of a node image: its label, else its tag.
func nodeImageVersion(ref string, info imageInfo) (string, error) {
	if v := info.label(bundle.LabelKubernetesVersion); v != "" {
		if !bundle.IsKubernetesVersion(v) {
			return "", errs.Invalidf("set the label to the node's exact version, for example v1.36.4",
				"node image %s has label %s=%q, which is not a Kubernetes version", ref, bundle.LabelKubernetesVersion, v)
		}
		return "v" + strings.TrimPrefix(v, "v"), nil
	}
	if tag := bundle.Tag(ref); bundle.IsKubernetesVersion(tag) {
		return "v" + strings.TrimPrefix(tag, "v"), nil
	}
	return "", errs.Invalidf(fmt.Sprintf("label the image with %s=v1.36.4 (its version), or tag it with its version as kind does (kindest/node:v1.36.4)", bundle.LabelKubernetesVersion),
		"cannot tell the Kubernetes version of node image %s: it has no label %s and its tag is not a version", ref, bundle.LabelKubernetesVersion)
}

// imageSource is where an image comes from, for the manifest.
func imageSource(ref string, info imageInfo) string {
	if s := info.label(bundle.LabelSource); s != "" {
		return s
	}
	return "pulled from " + bundle.Registry(ref)
}

// saveImage writes one image's archive, or reuses the archive of the previous run.
func (p *Provider) saveImage(ctx context.Context, req cluster.SaveRequest, want bundle.Image, info imageInfo, ev *event.Emitter) (bundle.Image, error) {
	img := bundle.Image{Ref: want.Ref, Stacks: want.Stacks, Archive: bundle.ImageArchive(want.Ref), ImageID: info.ID, Source: imageSource(want.Ref, info)}
	file := filepath.Join(req.Dir, filepath.FromSlash(img.Archive))
	if reused, ok := reusable(req.Previous, img, file); ok {
		imageEvent(ev, "already in the bundle", reused)
		return reused, nil
	}
	saveRef := bundle.LocalRef(img.Ref)
	if saveRef != img.Ref {
		// Saved by a tag, so that the archive names the image when it is loaded.
		if _, stderr, err := p.run(ctx, "docker", "tag", info.ID, saveRef); err != nil {
			return img, p.dockerFailed(ctx, err, stderr, "tag "+img.Ref+" as "+saveRef)
		}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return img, errs.Wrap(errs.Internal, err, "cannot create the bundle's images directory", "")
	}
	// Saved under a temporary name: an interrupted save never leaves a truncated
	// archive under the final one.
	partial := file + ".partial"
	start := time.Now()
	if _, stderr, err := p.run(ctx, "docker", "save", "-o", partial, saveRef); err != nil {
		os.Remove(partial)
		return img, p.dockerFailed(ctx, err, stderr, "save image "+img.Ref)
	}
	sum, size, err := bundle.FileDigest(partial)
	if err == nil {
		err = os.Rename(partial, file)
	}
	if err != nil {
		os.Remove(partial)
		return img, errs.Wrap(errs.Internal, err, "cannot write the archive of "+img.Ref, "")
	}
	img.SHA256, img.Size = sum, size
	imageEvent(ev, fmt.Sprintf("saved in %s", time.Since(start).Round(100*time.Millisecond)), img)
	return img, nil
}

// reusable returns the previous run's archive of the same image when its file still
// has the sha256 and size that run recorded.
func reusable(prev *bundle.Manifest, img bundle.Image, file string) (bundle.Image, bool) {
	if prev == nil {
		return img, false
	}
	old, ok := prev.Image(img.Ref)
	if !ok && prev.NodeImage.Ref == img.Ref {
		old, ok = prev.NodeImage, true
	}
	if !ok || old.ImageID != img.ImageID || old.Archive != img.Archive {
		return img, false
	}
	sum, size, err := bundle.FileDigest(file)
	if err != nil || sum != old.SHA256 || size != old.Size {
		return img, false
	}
	img.SHA256, img.Size = sum, size
	return img, true
}

// imageEvent reports one image with its size, as a line and as fields for -o json.
func imageEvent(ev *event.Emitter, what string, img bundle.Image) {
	ev.Emit(event.Event{Type: event.Info,
		Message: fmt.Sprintf("%s (%s): %s", img.Ref, bundle.FormatSize(img.Size), what),
		Fields:  map[string]string{"image": img.Ref, "size": fmt.Sprint(img.Size), "archive": img.Archive, "source": img.Source}})
}

// dockerFailed explains a failed docker command.
func (p *Provider) dockerFailed(ctx context.Context, err error, stderr []byte, doing string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return p.kindError(ctx, errors.New(firstLine(stderr, err)), doing)
}

// loadNodeImage puts the bundle's node image into Docker (a docker load, unless
// Docker has the image already) under the tag kind is given, so that kind finds it
// and pulls nothing.
func (p *Provider) loadNodeImage(ctx context.Context, b *cluster.Bundle, ev *event.Emitter) error {
	node := b.Manifest.NodeImage
	local := bundle.LocalRef(node.Ref)
	if _, found, err := p.inspectImage(ctx, node.ImageID); err != nil {
		return err
	} else if !found {
		file := filepath.Join(b.Dir, filepath.FromSlash(node.Archive))
		start := time.Now()
		if _, stderr, err := p.run(ctx, "docker", "load", "-i", file); err != nil {
			return p.dockerFailed(ctx, err, stderr, "load the node image from "+file)
		}
		imageEvent(ev, fmt.Sprintf("loaded into Docker in %s", time.Since(start).Round(100*time.Millisecond)), node)
	} else {
		imageEvent(ev, "already in Docker", node)
	}
	if _, stderr, err := p.run(ctx, "docker", "tag", node.ImageID, local); err != nil {
		return p.dockerFailed(ctx, err, stderr, "tag the node image as "+local)
	}
	return nil
}

// LoadImages loads every image of the bundle into every node of the cluster that
// does not have it (by image ID) yet, the nodes of one image at once, as `kind load
// image-archive` does: streamed from the archive, no docker load.
func (p *Provider) LoadImages(ctx context.Context, req cluster.Request, ev *event.Emitter) error {
	if req.Bundle == nil {
		return nil
	}
	name := ClusterName(req.Name)
	b := p.newBackend(ev)
	all, err := b.Nodes(name)
	if err != nil {
		return p.kindError(ctx, err, "list the nodes of kind cluster "+name)
	}
	var nodes []string
	for _, n := range all {
		if n.Role != "external-load-balancer" {
			nodes = append(nodes, n.Name)
		}
	}
	for _, img := range req.Bundle.Manifest.Images {
		if err := ctx.Err(); err != nil {
			return err
		}
		var missing []string
		for _, n := range nodes {
			if id, err := b.ImageID(name, n, img.Ref); err != nil || id != img.ImageID {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			imageEvent(ev, "already on every node", img)
			continue
		}
		start := time.Now()
		file := filepath.Join(req.Bundle.Dir, filepath.FromSlash(img.Archive))
		if err := loadOnNodes(b, name, missing, file); err != nil {
			return p.kindError(ctx, err, "load image "+img.Ref+" into the nodes")
		}
		imageEvent(ev, fmt.Sprintf("loaded into %s in %s", plural(len(missing), "node"), time.Since(start).Round(100*time.Millisecond)), img)
	}
	return nil
}

// loadOnNodes loads one archive into several nodes concurrently; the first error wins.
func loadOnNodes(b backend, cluster string, nodes []string, file string) error {
	errc := make(chan error, len(nodes))
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.LoadImageArchive(cluster, n, file); err != nil {
				errc <- fmt.Errorf("node %s: %w", n, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
