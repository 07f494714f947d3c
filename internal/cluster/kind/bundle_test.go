package kind

// Pure logic: these tests play Docker with the fake CommandRunner and kind with the
// fake backend (fakes_test.go), to check which docker commands the bundle code runs,
// in which order, and what it does with their answers. The docker paths themselves
// run for real in the kind suite.

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

const (
	promRef    = "quay.io/prometheus/prometheus:v2.53.4"
	podinfoRef = "ghcr.io/stefanprodan/podinfo:6.9.2"
	fromSource = "rebuilt from source: github.com/prometheus/prometheus@v0.53.4"
)

// withoutNodeImages is a fake Docker on a machine that never pulled a node image.
func withoutNodeImages() *fakeEnv {
	f := newFakeEnv()
	for _, image := range nodeImages {
		delete(f.images, image)
		delete(f.images, "sha256:node-"+NodeImageVersion(image))
	}
	return f
}

func TestPreflightPullsAMissingNodeImageOrNamesBothWaysOut(t *testing.T) {
	t.Parallel()
	image, _ := NodeImage("")
	for _, tc := range []struct {
		name       string
		local      bool // Docker has the node image
		registry   bool // a registry serves it
		wantErr    bool
		wantDocker []string
	}{
		{"node image in Docker: nothing pulled", true, false, false, nil},
		{"node image pulled", false, true, false, []string{"pull " + image}},
		{"no registry and no node image", false, false, true, []string{"pull " + image}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := withoutNodeImages()
			if tc.local {
				f.addImage(image, fakeImage{ID: "sha256:node"})
			}
			if tc.registry {
				f.registry[image] = fakeImage{ID: "sha256:node"}
			}
			err := f.provider().Preflight(context.Background(), request(t.TempDir(), spec.ClusterSpec{Ports: []int{}}), event.NewEmitter(nil))
			if got := f.dockerLog(); !slices.Equal(got, tc.wantDocker) {
				t.Errorf("docker ran %q, want %q", got, tc.wantDocker)
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if errs.KindOf(err) != errs.Unavailable {
				t.Fatalf("err = %v, want unavailable (exit 1)", err)
			}
			for _, want := range []string{image, "is not in Docker and cannot be pulled: no registry answered", "no such host"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			for _, want := range []string{"lab pull --bundle DIR", "lab up --bundle DIR", "--provider sim"} {
				if !strings.Contains(errs.HintOf(err), want) {
					t.Errorf("hint %q does not name %q", errs.HintOf(err), want)
				}
			}
		})
	}
}

// instructorDocker has a node image and Prometheus built here (labelled), and a
// registry that serves podinfo.
func instructorDocker(nodeRef string) *fakeEnv {
	f := withoutNodeImages()
	f.addImage(nodeRef, fakeImage{ID: "sha256:node1", Labels: map[string]string{bundle.LabelKubernetesVersion: "v1.35.9", bundle.LabelSource: "built here"}})
	f.addImage(promRef, fakeImage{ID: "sha256:prom1", Labels: map[string]string{bundle.LabelSource: fromSource}})
	f.registry[podinfoRef] = fakeImage{ID: "sha256:podinfo1"}
	return f
}

func saveRequest(dir, nodeRef string, prev *bundle.Manifest) cluster.SaveRequest {
	return cluster.SaveRequest{Dir: dir, NodeImage: nodeRef, Previous: prev,
		Images: []bundle.Image{{Ref: promRef, Stacks: []string{"monitoring"}}, {Ref: podinfoRef, Stacks: []string{"demo-shop"}}}}
}

func TestSaveImagesTakesLocalImagesPullsTheRestAndReusesArchives(t *testing.T) {
	t.Parallel()
	const nodeRef = "lab.local/kind-node:v1.35.9@sha256:0123"
	dir := t.TempDir()
	f := instructorDocker(nodeRef)
	p := f.provider()
	saved, err := p.SaveImages(context.Background(), saveRequest(dir, nodeRef, nil), event.NewEmitter(nil))
	if err != nil {
		t.Fatal(err)
	}
	nodeArchive := filepath.Join(dir, "images", "lab.local_kind-node_v1.35.9_sha256_0123.tar")
	want := []string{
		"pull " + podinfoRef,
		// A reference with a digest is saved by its tag: docker load keeps tags only.
		"tag sha256:node1 lab.local/kind-node:v1.35.9",
		"save -o " + nodeArchive + ".partial lab.local/kind-node:v1.35.9",
		"save -o " + filepath.Join(dir, "images", "quay.io_prometheus_prometheus_v2.53.4.tar") + ".partial " + promRef,
		"save -o " + filepath.Join(dir, "images", "ghcr.io_stefanprodan_podinfo_6.9.2.tar") + ".partial " + podinfoRef,
	}
	if got := f.dockerLog(); !slices.Equal(got, want) {
		t.Fatalf("docker ran\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if saved.KubernetesVersion != "v1.35.9" {
		t.Errorf("kubernetesVersion = %q, want the label's v1.35.9", saved.KubernetesVersion)
	}
	sum, size, err := bundle.FileDigest(nodeArchive)
	if err != nil {
		t.Fatal(err)
	}
	if n := saved.NodeImage; n.Ref != nodeRef || n.SHA256 != sum || n.Size != size || n.ImageID != "sha256:node1" || n.Source != "built here" {
		t.Errorf("node image %+v", n)
	}
	if len(saved.Images) != 2 || saved.Images[0].Source != fromSource || saved.Images[1].Source != "pulled from ghcr.io" ||
		saved.Images[0].Stacks[0] != "monitoring" || saved.Images[1].ImageID != "sha256:podinfo1" {
		t.Errorf("images %+v", saved.Images)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "images"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Errorf("left %s behind", e.Name())
		}
	}

	// A second run with the manifest of the first saves nothing again, unless an
	// image changed (Prometheus rebuilt) or its archive was damaged (podinfo).
	prev := &bundle.Manifest{NodeImage: saved.NodeImage, Images: saved.Images}
	f.addImage(promRef, fakeImage{ID: "sha256:prom2"})
	must(t, os.WriteFile(filepath.Join(dir, "images", "ghcr.io_stefanprodan_podinfo_6.9.2.tar"), []byte("damaged!"), 0o644))
	before := len(f.dockerLog())
	again, err := p.SaveImages(context.Background(), saveRequest(dir, nodeRef, prev), event.NewEmitter(nil))
	if err != nil {
		t.Fatal(err)
	}
	var saves []string
	for _, c := range f.dockerLog()[before:] {
		if strings.HasPrefix(c, "save ") {
			saves = append(saves, c[strings.LastIndex(c, " ")+1:])
		}
	}
	if !slices.Equal(saves, []string{promRef, podinfoRef}) {
		t.Errorf("second run saved %q, want only the rebuilt and the damaged image", saves)
	}
	if again.NodeImage.SHA256 != saved.NodeImage.SHA256 || again.Images[0].ImageID != "sha256:prom2" {
		t.Errorf("second run: node %+v, prometheus %+v", again.NodeImage, again.Images[0])
	}
}

func TestSaveImagesRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		nodeRef string
		setup   func(f *fakeEnv)
		kind    errs.Kind
		want    []string
	}{
		{"images no registry serves are all named", "lab.local/kind-node:v1.35.9", func(f *fakeEnv) {
			delete(f.registry, podinfoRef)
			delete(f.images, promRef)
		}, errs.Unavailable, []string{"2 image(s) are not in the local Docker and no registry answered", promRef, podinfoRef, "no such host"}},
		{"node image without a version", "lab.local/kind-node:latest", func(f *fakeEnv) {
			f.addImage("lab.local/kind-node:latest", fakeImage{ID: "sha256:n"})
		}, errs.Invalid, []string{"cannot tell the Kubernetes version of node image lab.local/kind-node:latest", bundle.LabelKubernetesVersion}},
		{"default node image of a version kind lacks", "", nil, errs.Invalid, []string{"has no kind node image"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := instructorDocker("lab.local/kind-node:v1.35.9")
			if tc.setup != nil {
				tc.setup(f)
			}
			req := saveRequest(t.TempDir(), tc.nodeRef, nil)
			req.KubernetesVersion = "v1.20"
			_, err := f.provider().SaveImages(context.Background(), req, event.NewEmitter(nil))
			if errs.KindOf(err) != tc.kind {
				t.Fatalf("err = %v (kind %d), want kind %d", err, errs.KindOf(err), tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, c := range f.dockerLog() {
				if strings.HasPrefix(c, "save ") {
					t.Errorf("saved before refusing: %s", c)
				}
			}
		})
	}
}

// The instructor's bundle brings a two-node cluster up on a laptop whose Docker has
// nothing and no registry: the node image is docker-loaded and tagged, kind creates
// from it, and every image goes into both nodes once.
func TestCreateAndLoadImagesFromABundle(t *testing.T) {
	t.Parallel()
	nodeRef, _ := NodeImage("v1.36")
	dir := t.TempDir()
	saved, err := instructorDocker(nodeRef).provider().SaveImages(context.Background(), saveRequest(dir, nodeRef, nil), event.NewEmitter(nil))
	if err != nil {
		t.Fatal(err)
	}
	m := &bundle.Manifest{FormatVersion: bundle.FormatVersion, KubernetesVersion: saved.KubernetesVersion, NodeImage: saved.NodeImage, Images: saved.Images}
	must(t, bundle.Write(dir, m))
	m, err = bundle.Open(dir)
	if err != nil {
		t.Fatal(err)
	}

	laptop := withoutNodeImages()
	p := laptop.provider()
	req := request(t.TempDir(), spec.ClusterSpec{Nodes: []spec.NodeGroup{{Role: spec.RoleControlPlane}, {Role: spec.RoleWorker}}, Ports: []int{}})
	req.Bundle = &cluster.Bundle{Dir: dir, Manifest: m}
	rec := &event.Recorder{}
	ev := event.NewEmitter(rec)
	if err := p.Preflight(context.Background(), req, ev); err != nil {
		t.Fatal(err)
	}
	if err := p.Create(context.Background(), req, ev); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"load -i " + filepath.Join(dir, "images", "kindest_node_v1.36.4_sha256_099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed.tar"),
		"tag sha256:node1 kindest/node:v1.36.4",
	}
	if got := laptop.dockerLog(); !slices.Equal(got, want) {
		t.Fatalf("docker ran\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if laptop.createdFrom != "kindest/node:v1.36.4" {
		t.Errorf("kind created the nodes from %q, want the loaded kindest/node:v1.36.4 (no digest: docker load keeps none)", laptop.createdFrom)
	}

	if err := p.LoadImages(context.Background(), req, ev); err != nil {
		t.Fatal(err)
	}
	loads := slices.Clone(laptop.loads)
	slices.Sort(loads)
	wantLoads := []string{
		"lab-demo-control-plane ghcr.io_stefanprodan_podinfo_6.9.2.tar", "lab-demo-control-plane quay.io_prometheus_prometheus_v2.53.4.tar",
		"lab-demo-worker ghcr.io_stefanprodan_podinfo_6.9.2.tar", "lab-demo-worker quay.io_prometheus_prometheus_v2.53.4.tar",
	}
	if !slices.Equal(loads, wantLoads) {
		t.Fatalf("loaded %q, want %q", loads, wantLoads)
	}
	if !rec.Said(promRef+" (") || !rec.Said("loaded into 2 nodes") {
		t.Errorf("no progress event per image with its size: %+v", rec.Events())
	}
	// Again (lab up run twice): the nodes have every image, nothing is streamed.
	if err := p.LoadImages(context.Background(), req, ev); err != nil {
		t.Fatal(err)
	}
	if len(laptop.loads) != 4 || !rec.Said("already on every node") {
		t.Errorf("second load streamed again: %q", laptop.loads)
	}
	// And a second Create of the running cluster loads no node image again.
	before := len(laptop.dockerLog())
	if err := p.Create(context.Background(), req, ev); err != nil {
		t.Fatal(err)
	}
	if got := laptop.dockerLog()[before:]; len(got) != 0 {
		t.Errorf("Create of the running cluster ran docker %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
