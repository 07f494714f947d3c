package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/state"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// TestDownWhileAChaosRunHoldsAFault: `lab down` of a sim lab while a `lab chaos run`
// process holds a scale fault on it reverts the fault first; the chaos process sees it
// reverted and ends, and never writes into the deleted lab's state (issue 17.8: it
// retried the revert, suggested `lab chaos revert` for a lab that no longer existed,
// and recreated the lab's journal folder).
func TestDownWhileAChaosRunHoldsAFault(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.PrivateEnv(t)
	env["LAB_SIM_BIN_DIR"] = bin
	t.Cleanup(func() { runLab(t, env, "down", "--name", "held", "--force") })
	if code, _, stderr := runLab(t, env, "up", "-f", writeLab(t, "held")); code != 0 {
		t.Fatalf("up: %s", stderr)
	}
	_, stdout, _ := runLab(t, env, "kubeconfig", "--name", "held")
	cs, err := kube.Clientset([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	createDeployment(t, cs, "default", "web", 3)

	lab := buildLab(t)
	run := exec.Command(lab, "chaos", "run", "scale", "--name", "held", "-n", "default", "--target", "deployment/web", "--replicas", "1", "--duration", "5m", "--yes")
	run.Env = os.Environ()
	for k, v := range env {
		run.Env = append(run.Env, k+"="+v)
	}
	var runErr bytes.Buffer
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill() })
	waitReplicas(t, cs, "web", 1)
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()

	code, _, stderr := runLab(t, env, "down", "--name", "held")
	if code != 0 {
		t.Fatalf("down = %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Reverting scale-") {
		t.Errorf("down did not revert the held fault first:\n%s", stderr)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the chaos run still runs 30s after lab down:\n%s", runErr.String())
	}
	labDir := filepath.Join(env["LAB_STATE_DIR"], "labs", "held")
	if state.Exists(labDir) {
		files, _ := filepath.Glob(filepath.Join(labDir, "*", "*"))
		t.Fatalf("the deleted lab's state was recreated: %v\nchaos run said:\n%s", files, runErr.String())
	}
	if strings.Contains(runErr.String(), "lab chaos revert") {
		t.Errorf("the chaos run suggests reverting on a deleted lab:\n%s", runErr.String())
	}
	if !strings.Contains(runErr.String(), "was reverted by another lab process") {
		t.Errorf("the chaos run does not say why it ended:\n%s", runErr.String())
	}
	if _, err := cs.AppsV1().Deployments("default").Get(t.Context(), "web", metav1.GetOptions{}); err == nil {
		t.Error("the deleted lab's API server still answers")
	}
}
