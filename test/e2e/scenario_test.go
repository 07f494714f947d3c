//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/ui"
)

// TestScenariosOnKind is `lab scenario test --all` on a real kind lab with its stacks:
// there nothing may be skipped. The checks a simulated lab skips (Prometheus rules and
// alerts, kube-state-metrics, HTTP through Services while chaos kills pods) run for
// real, against running containers.
func TestScenariosOnKind(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LAB_STATE_DIR", filepath.Join(dir, "state"))
	t.Setenv("KUBECONFIG", filepath.Join(dir, "kubeconfig"))
	name := "e2e-sc-" + randomSuffix(t)
	run := func(args ...string) (int, string, string) {
		io, _, out, errOut := ui.Test()
		code := app.Run(context.Background(), io, args)
		return code, out.String(), errOut.String()
	}
	if code, _, stderr := run("up", "--provider", "kind", "--name", name); code != 0 {
		t.Fatalf("lab up: exit %d\n%s", code, stderr)
	}
	t.Cleanup(func() { run("down", "--name", name) })

	code, stdout, stderr := run("scenario", "test", "--all", "--name", name, "-o", "json")
	t.Logf("lab scenario test --all: exit %d\n%s\n%s", code, stdout, stderr)
	var reports []scenario.TestReport
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	if code != 0 || len(reports) != 4 {
		t.Fatalf("exit %d with %d reports, want 0 with 4", code, len(reports))
	}
	for _, r := range reports {
		if !r.OK() || r.Skipped != 0 || r.Proven != len(r.Checks) {
			t.Errorf("%s on kind: %+v; want every check proven, none skipped", r.Scenario, r)
		}
	}
}
