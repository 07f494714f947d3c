package up

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/state"
	"github.com/cloudnativelab/lab/internal/ui"
)

func TestBundleFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // "" means accepted
	}{
		{"bundle", []string{"--bundle", "b"}, ""},
		{"bundle on kind", []string{"--bundle", "b", "--provider", "kind"}, ""},
		{"bundle offline", []string{"--bundle", "b", "--offline"}, ""},
		{"empty bundle directory", []string{"--bundle", ""}, "--bundle needs a directory"},
		{"bundle on sim", []string{"--bundle", "b", "--provider", "sim"}, "it cannot be used with --provider sim"},
		{"bundle on existing", []string{"--bundle", "b", "--provider", "existing"}, "it cannot be used with --provider existing"},
		{"bad provider", []string{"--provider", "docker"}, `invalid --provider "docker"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *Options
			f, _ := factory(t, nil)
			err := runUp(f, func(_ context.Context, o *Options) error { got = o; return nil }, tc.args...)
			if tc.want == "" {
				if err != nil || got == nil || got.Bundle != "b" {
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

// `lab up --bundle` with a bundle that cannot serve the lab is refused (exit 2, naming
// the file or both versions) before Docker is asked anything and before a lab record
// exists. The real engine runs, with the real catalog; Docker is a runner that
// records its calls and answers none.
func TestBadBundlesAreRefusedBeforeAnythingIsCreated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		spoil func(t *testing.T, dir string, m *bundle.Manifest)
		kind  errs.Kind
		want  []string
	}{
		{"no manifest", nil, func(t *testing.T, dir string, m *bundle.Manifest) {
			must(t, os.Remove(filepath.Join(dir, bundle.ManifestFile)))
		}, errs.Invalid, []string{"is not a lab bundle"}},
		{"missing archive", nil, func(t *testing.T, dir string, m *bundle.Manifest) {
			must(t, os.Remove(filepath.Join(dir, m.Images[0].Archive)))
		}, errs.Invalid, []string{filepath.FromSlash(bundle.ImagesDir + "/"), "is missing"}},
		{"corrupt node image", nil, func(t *testing.T, dir string, m *bundle.Manifest) {
			file := filepath.Join(dir, m.NodeImage.Archive)
			data, err := os.ReadFile(file)
			must(t, err)
			data[len(data)-1] ^= 0xff // same size, other bytes
			must(t, os.WriteFile(file, data, 0o644))
		}, errs.Invalid, []string{"kindest_node_v1.36.4", "the archive is corrupt"}},
		{"other Kubernetes version", []string{"-f", "testdata/v1.35.yaml"}, nil, errs.Invalid,
			[]string{"holds Kubernetes v1.36.4", "asks for kubernetesVersion v1.35"}},
		{"image missing from the bundle", nil, func(t *testing.T, dir string, m *bundle.Manifest) {
			m.Images = m.Images[1:]
			must(t, bundle.Write(dir, m))
		}, errs.Invalid, []string{"lacks images this lab runs"}},
		// A good bundle passes verification; then the kind preflight asks Docker.
		{"good bundle, no Docker", nil, nil, errs.Unavailable, []string{"Docker is not reachable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, m := defaultLabBundle(t)
			if tc.spoil != nil {
				tc.spoil(t, dir, m)
			}
			docker := &recordingRunner{}
			f, manager := factory(t, docker)
			err := runUp(f, nil, append([]string{"--bundle", dir}, tc.args...)...)
			if errs.KindOf(err) != tc.kind {
				t.Fatalf("err = %v, want kind %d", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if calls := docker.log(); tc.kind == errs.Invalid && len(calls) > 0 {
				t.Errorf("Docker was asked %q before the bundle was refused", calls)
			}
			if names, err := manager.Names(); err != nil || len(names) > 0 {
				t.Errorf("labs after a refused up: %q (%v), want none", names, err)
			}
		})
	}
}

// defaultLabBundle is a bundle for the default lab whose archives are small stand-ins:
// verification reads files, not images.
func defaultLabBundle(t *testing.T) (string, *bundle.Manifest) {
	t.Helper()
	def, err := spec.EmbeddedLab("default")
	must(t, err)
	contents, err := (&lab.Manager{Catalog: stack.Default(), CacheDir: t.TempDir()}).Pull(def, "")
	must(t, err)
	dir := t.TempDir()
	archive := func(ref string, stacks []string) bundle.Image {
		img := bundle.Image{Ref: ref, Stacks: stacks, Archive: bundle.ImageArchive(ref), ImageID: "sha256:" + strings.Repeat("1", 64), Source: "pulled from " + bundle.Registry(ref)}
		file := filepath.Join(dir, filepath.FromSlash(img.Archive))
		must(t, os.MkdirAll(filepath.Dir(file), 0o755))
		must(t, os.WriteFile(file, []byte("archive of "+ref), 0o644))
		img.SHA256, img.Size, err = bundle.FileDigest(file)
		must(t, err)
		return img
	}
	nodeRef, err := kind.NodeImage("")
	must(t, err)
	m := &bundle.Manifest{FormatVersion: bundle.FormatVersion, LabVersion: "test", CreatedAt: time.Now().UTC(), Lab: "default", Profile: "lite",
		KubernetesVersion: kind.NodeImageVersion(nodeRef), NodeImage: archive(nodeRef, nil)}
	for _, img := range contents.Images {
		m.Images = append(m.Images, archive(img.Name, img.Stacks))
	}
	must(t, bundle.Write(dir, m))
	return dir, m
}

// recordingRunner is a Docker that answers nothing and remembers what it was asked.
type recordingRunner struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingRunner) run(_ context.Context, name string, args ...string) ([]byte, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name+" "+strings.Join(args, " "))
	return nil, []byte("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"), errors.New("exit status 1")
}

func (r *recordingRunner) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// factory wires the real engine on temporary state, with kind's Docker played by
// docker (nil: a runner that answers nothing).
func factory(t *testing.T, docker *recordingRunner) (*cmdutil.Factory, *lab.Manager) {
	t.Helper()
	if docker == nil {
		docker = &recordingRunner{}
	}
	m := &lab.Manager{
		StateDir:        t.TempDir(),
		Providers:       map[string]cluster.Provider{"kind": kind.New(kind.WithCommandRunner(docker.run))},
		DockerReachable: func(context.Context) error { return errors.New("no Docker") },
		UserKubeconfig:  filepath.Join(t.TempDir(), "config"),
		Catalog:         stack.Default(),
		CacheDir:        t.TempDir(),
	}
	ios, _, _, _ := ui.Test()
	f := &cmdutil.Factory{IO: ios, Globals: &cmdutil.Globals{Output: "json"},
		Manager: func(sink event.Sink) *lab.Manager { m.Events = event.NewEmitter(sink); return m }}
	return f, m
}

func runUp(f *cmdutil.Factory, runF func(context.Context, *Options) error, args ...string) error {
	cmd := NewCmd(f, runF)
	cmd.SetArgs(args)
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A lab brought up from a bundle keeps using it: a plain `lab up` verifies the recorded
// bundle again, and says so when it is gone.
func TestRecordedBundleIsUsedAgain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir string, m *bundle.Manifest)
		want  []string
	}{
		{"bundle gone", func(t *testing.T, dir string, m *bundle.Manifest) {
			must(t, os.RemoveAll(dir))
		}, []string{`lab "default" was brought up from the bundle`, "which is gone"}},
		{"recorded bundle damaged", func(t *testing.T, dir string, m *bundle.Manifest) {
			must(t, os.Remove(filepath.Join(dir, m.Images[0].Archive)))
		}, []string{"grafana_11.6.1.tar", "is missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, m := defaultLabBundle(t)
			docker := &recordingRunner{}
			f, manager := factory(t, docker)
			def, err := spec.EmbeddedLab("default")
			must(t, err)
			rec := lab.Record{Name: "default", Provider: "kind", Phase: lab.Ready, Spec: *def, Bundle: dir}
			must(t, state.WriteJSON(filepath.Join(manager.StateDir, "labs", "default", "state.json"), rec, 0o600))
			tc.spoil(t, dir, m)
			err = runUp(f, nil)
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("err = %v, want invalid input (exit 2)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if calls := docker.log(); len(calls) > 0 {
				t.Errorf("Docker was asked %q before the bundle was refused", calls)
			}
		})
	}
}
