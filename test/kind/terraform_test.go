package kind

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTerraformKindLab brings a lab up and down through provider terraform and lab's
// bundled kind module: the real terraform binary runs the module, whose provider is the
// lab binary itself (linked into terraform's plugin directory of this test's own home),
// and the cluster is a real kind cluster from the test bundle's node image. The lab has
// its own state, kubeconfig and home: the suite's lab is not touched.
func TestTerraformKindLab(t *testing.T) {
	const name = "tfkind"
	dir := t.TempDir()
	env := append(os.Environ(),
		"LAB_STATE_DIR="+filepath.Join(dir, "state"),
		"XDG_STATE_HOME="+filepath.Join(dir, "xdg-state"),
		"KUBECONFIG="+filepath.Join(dir, "kubeconfig"),
		"HOME="+filepath.Join(dir, "home"),
		"NO_COLOR=1",
	)
	file := filepath.Join(dir, "terraform-kind.yaml")
	def := fmt.Sprintf(`apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata: {name: %s}
spec:
  cluster:
    provider: terraform
    terraform:
      module: kind
      vars: {workers: 0, kubernetes_version: v1.34, bundle: %s}
`, name, suite.bundle)
	if err := os.WriteFile(file, []byte(def), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, args ...string) result {
		cmd := exec.CommandContext(ctx, suite.lab, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		res := result{}
		if err := cmd.Run(); err != nil {
			res.code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				res.code = ee.ExitCode()
			}
		}
		res.stdout, res.stderr = out.String(), errOut.String()
		return res
	}
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", "-v", "lab-"+name+"-control-plane").Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	start := time.Now()
	up := run(ctx, "up", "-f", file, "--yes")
	t.Logf("lab up (provider terraform, module kind) took %s", time.Since(start).Round(time.Second))
	if up.code != 0 {
		t.Fatalf("lab up: exit %d\n%s\n%s", up.code, up.stdout, up.stderr)
	}
	if !strings.Contains(up.stderr, "terraform plan: 1 to add, 0 to change, 0 to destroy") ||
		!strings.Contains(up.stderr, "kind_cluster.lab: Creation complete") {
		t.Errorf("lab up did not show the plan and the resource made:\n%s", up.stderr)
	}
	st := run(ctx, "status", "--name", name, "-o", "json")
	var status struct {
		State     string `json:"state"`
		Simulated bool   `json:"simulated"`
		Nodes     struct{ Ready, Total int }
	}
	if err := json.Unmarshal([]byte(st.stdout), &status); err != nil || st.code != 0 {
		t.Fatalf("lab status: exit %d, %v\n%s\n%s", st.code, err, st.stdout, st.stderr)
	}
	if status.State != "running" || status.Simulated || status.Nodes.Ready != 1 || status.Nodes.Total != 1 {
		t.Errorf("lab status = %+v, want running, not simulated, 1/1 node Ready", status)
	}
	if out, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}}", "lab-"+name+"-control-plane").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Errorf("the kind node container does not run: %v %s", err, out)
	}
	again := run(ctx, "up", "-f", file, "--yes")
	if again.code != 0 || !strings.Contains(again.stderr, "is already up") {
		t.Errorf("lab up again: exit %d, want the lab already up\n%s", again.code, again.stderr)
	}

	down := run(ctx, "down", "--name", name, "--yes")
	if down.code != 0 {
		t.Fatalf("lab down: exit %d\n%s\n%s", down.code, down.stdout, down.stderr)
	}
	if out, _ := exec.Command("docker", "ps", "-a", "-q", "--filter", "name=lab-"+name+"-").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("lab down left containers: %s", out)
	}
}
