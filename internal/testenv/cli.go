package testenv

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/ui"
)

// RunFunc is app.Run: the CLI's entry point, passed in because app's own tests use
// RunCLI too and app cannot be imported from here.
type RunFunc func(ctx context.Context, io *ui.IO, args []string) int

// RunCLI runs lab's command line in-process with env set for the test, and returns
// its exit code and what it wrote. Tests that call it cannot be parallel (t.Setenv).
func RunCLI(t *testing.T, run RunFunc, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := ui.Test()
	for k, v := range env {
		t.Setenv(k, v)
	}
	code = run(context.Background(), io, args)
	return code, out.String(), errOut.String()
}

// PrivateEnv gives a CLI run its own state dir and kubeconfig, a short lock wait so a
// test that contends for a lab fails fast, and a Docker endpoint that does not exist:
// provider auto then picks sim, as on a machine without Docker, even where `make
// testenv` started a Docker engine for the kind suite (test/kind), which alone uses it.
func PrivateEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"LAB_STATE_DIR": filepath.Join(dir, "state"),
		"KUBECONFIG":    filepath.Join(dir, "kubeconfig"),
		"LAB_LOCK_WAIT": "1s",
		"DOCKER_HOST":   "unix://" + filepath.Join(dir, "no-docker.sock"),
	}
}

// ExpectExit runs args with a private environment and checks the exit code and that
// stderr holds every want: one row of a CLI's table of bad inputs.
func ExpectExit(t *testing.T, run RunFunc, args []string, code int, wants ...string) {
	t.Helper()
	got, _, stderr := RunCLI(t, run, PrivateEnv(t), args...)
	if got != code {
		t.Fatalf("exit code = %d, want %d; stderr:\n%s", got, code, stderr)
	}
	for _, want := range wants {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
}
