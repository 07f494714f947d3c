package pull

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
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
