package pull

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Bad flags of `lab pull --bundle` are refused (exit 2) before anything runs; good
// ones reach the engine with the options as given.
func TestBundleFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	digest := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name string
		args []string
		want string // "" means accepted
	}{
		{"bundle", []string{"--bundle", "out"}, ""},
		{"bundle with node image by digest", []string{"--bundle", "out", "--node-image", "kindest/node:v1.35.8@sha256:" + digest}, ""},
		{"bundle with a local node image", []string{"--bundle", "out", "--node-image", "localhost:5000/kind-node:v1.35.9-lab"}, ""},
		{"empty bundle directory", []string{"--bundle", ""}, "--bundle needs a directory"},
		{"bundle is a file", []string{"--bundle", file}, "is a file, not a directory"},
		{"node image without bundle", []string{"--node-image", "kindest/node:v1.35.8"}, "--node-image needs --bundle"},
		{"node image with a space", []string{"--bundle", "out", "--node-image", "kindest/node: v1"}, "is not an image reference"},
		{"node image with a short digest", []string{"--bundle", "out", "--node-image", "kindest/node:v1@sha256:abc"}, "is not an image reference"},
		{"node image with a scheme", []string{"--bundle", "out", "--node-image", "https://kindest/node:v1"}, "is not an image reference"},
		{"bad profile", []string{"--bundle", "out", "--profile", "huge"}, "huge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *Options
			err := runPull(t, func(_ context.Context, o *Options) error { got = o; return nil }, tc.args...)
			if tc.want == "" {
				if err != nil || got == nil || got.Bundle != "out" {
					t.Fatalf("err = %v, options %+v", err, got)
				}
				return
			}
			if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want invalid input (exit 2) saying %q", err, tc.want)
			}
			if got != nil {
				t.Errorf("the engine ran despite bad flags")
			}
		})
	}
}

func runPull(t *testing.T, runF func(context.Context, *Options) error, args ...string) error {
	t.Helper()
	ios, _, _, _ := ui.Test()
	f := &cmdutil.Factory{IO: ios, Globals: &cmdutil.Globals{Output: "table"},
		Manager: func(event.Sink) *lab.Manager { return &lab.Manager{Catalog: stack.Default(), CacheDir: t.TempDir()} }}
	cmd := NewCmd(f, runF)
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

// scriptedDocker plays a Docker that has every image (Prometheus labelled as rebuilt
// from source) and saves an archive holding the reference; it records the commands.
type scriptedDocker struct {
	mu    sync.Mutex
	calls []string
}

func (d *scriptedDocker) run(_ context.Context, name string, args ...string) ([]byte, []byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, strings.Join(args, " "))
	switch args[0] {
	case "info":
		return []byte(`{"ServerVersion":"20.10.24","MemTotal":8589934592,"NCPU":2}`), nil, nil
	case "image": // image inspect --format {{json .}} REF
		ref := args[len(args)-1]
		labels := map[string]string{}
		if strings.Contains(ref, "prometheus/prometheus") {
			labels[bundle.LabelSource] = "rebuilt from source: github.com/prometheus/prometheus@v0.53.4"
		}
		out, _ := json.Marshal(map[string]any{"Id": "sha256:id-of-" + ref, "Config": map[string]any{"Labels": labels}})
		return out, nil, nil
	case "tag":
		return nil, nil, nil
	case "save": // save -o FILE REF
		return nil, nil, os.WriteFile(args[2], []byte("archive of "+args[3]), 0o644)
	}
	return nil, nil, fmt.Errorf("unexpected docker %v", args)
}

// Pure logic of the whole `lab pull --bundle` path, Docker played by a script: the
// images of the default lab and its default node image are saved, and the manifest
// lists them with verified sha256 and sizes, sources and the node's version.
func TestPullBundleWritesAVerifiableManifest(t *testing.T) {
	t.Parallel()
	docker := &scriptedDocker{}
	dir := filepath.Join(t.TempDir(), "bundle")
	ios, _, out, _ := ui.Test()
	f := &cmdutil.Factory{IO: ios, Globals: &cmdutil.Globals{Output: "json"}, Build: cmdutil.BuildInfo{Version: "v9.9.9"},
		Manager: func(sink event.Sink) *lab.Manager {
			return &lab.Manager{Catalog: stack.Default(), CacheDir: t.TempDir(), Events: event.NewEmitter(sink),
				Providers: map[string]cluster.Provider{"kind": kind.New(kind.WithCommandRunner(docker.run))}}
		}}
	cmd := NewCmd(f, nil)
	cmd.SetArgs([]string{"--bundle", dir})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := bundle.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// With -o json stdout is the event stream: one event per image with its size,
	// closed by the result naming the manifest.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last event.Event
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != event.Result ||
		last.Fields["manifest"] != filepath.Join(dir, bundle.ManifestFile) || last.Fields["kubernetesVersion"] != "v1.36.4" {
		t.Errorf("last event %+v (%v)", last, err)
	}
	if !strings.Contains(out.String(), `"image":"quay.io/prometheus/prometheus:v2.53.4"`) || !strings.Contains(out.String(), `"size":"`) {
		t.Errorf("no event per image with its size:\n%s", out)
	}
	nodeRef, _ := kind.NodeImage("v1.36")
	if m.LabVersion != "v9.9.9" || m.Lab != "default" || m.Profile != "lite" || m.KubernetesVersion != "v1.36.4" || m.NodeImage.Ref != nodeRef {
		t.Errorf("manifest header %+v", m)
	}
	if m.NodeImage.Source != "pulled from docker.io" || m.NodeImage.ImageID != "sha256:id-of-"+nodeRef {
		t.Errorf("node image %+v", m.NodeImage)
	}
	prom, ok := m.Image("quay.io/prometheus/prometheus:v2.53.4")
	if !ok || prom.Source != "rebuilt from source: github.com/prometheus/prometheus@v0.53.4" || prom.Stacks[0] != "monitoring" {
		t.Errorf("prometheus %+v (found %v)", prom, ok)
	}
	if shop, ok := m.Image("ghcr.io/stefanprodan/podinfo:6.9.2"); !ok || shop.Source != "pulled from ghcr.io" {
		t.Errorf("podinfo %+v (found %v)", shop, ok)
	}
	if len(m.Images) < 6 || len(m.Charts) != 2 || m.Charts[0].Source != "bundled" {
		t.Errorf("%d images, charts %+v", len(m.Images), m.Charts)
	}
	// The same command again saves nothing: every archive still matches.
	before := len(docker.calls)
	cmd = NewCmd(f, nil)
	cmd.SetArgs([]string{"--bundle", dir})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range docker.calls[before:] {
		if strings.HasPrefix(c, "save ") {
			t.Errorf("second run saved again: %s", c)
		}
	}
}

// A bundle carries the chaos hog image and the images of the bundled scenarios that can
// run on the lab: a scenario needing a stack the lab lacks adds nothing.
func TestExtraImagesFollowTheLabsStacks(t *testing.T) {
	t.Parallel()
	const podinfo = "ghcr.io/stefanprodan/podinfo:6.9.2"
	tests := []struct {
		stacks    []string
		wantUsers []string
	}{
		{stacks: nil, wantUsers: []string{"scenario/helm-basics", "scenario/k8s-basics"}},
		{stacks: []string{"monitoring", "demo-shop"}, wantUsers: []string{"scenario/gameday-pod-kill", "scenario/helm-basics", "scenario/k8s-basics"}},
	}
	for _, tt := range tests {
		t.Run("stacks="+strings.Join(tt.stacks, "+"), func(t *testing.T) {
			t.Parallel()
			def := &spec.Lab{}
			def.Spec.Stacks = tt.stacks
			extra, err := extraImages(def)
			if err != nil {
				t.Fatal(err)
			}
			if extra[0].Ref != chaos.HogImage {
				t.Errorf("first extra image = %s, want the hog image %s", extra[0].Ref, chaos.HogImage)
			}
			var users []string
			for _, img := range extra {
				if img.Ref == podinfo {
					users = img.Stacks
				}
			}
			if !slices.Equal(users, tt.wantUsers) {
				t.Errorf("%s is wanted by %v, want %v", podinfo, users, tt.wantUsers)
			}
		})
	}
}
