package app

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// TestCtrlCThenUpCompletes interrupts a real `lab up` process with SIGINT while the
// cluster is being created, then checks that it exits 130 with advice, and that the
// next `lab up` finishes the lab and `lab down` removes it.
func TestCtrlCThenUpCompletes(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	lab := buildLab(t)
	env := append(os.Environ(), "LAB_SIM_BIN_DIR="+bin)
	for k, v := range testenv.PrivateEnv(t) {
		env = append(env, k+"="+v)
	}
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(lab, args...)
		cmd.Env = env
		return cmd
	}
	t.Cleanup(func() { run("down", "--name", "sigint").Run() })

	up := run("up", "--name", "sigint")
	stderr, _ := up.StderrPipe()
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Creating cluster (sim)...") {
			time.Sleep(500 * time.Millisecond)
			up.Process.Signal(syscall.SIGINT)
		}
	}
	err = up.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != errs.ExitInterrupted {
		t.Fatalf("interrupted up: %v, want exit %d; stderr:\n%s", err, errs.ExitInterrupted, seen.String())
	}
	if !strings.Contains(seen.String(), "Error: interrupted") || !strings.Contains(seen.String(), "run `lab up` again to finish") {
		t.Fatalf("interrupted up did not say what to do:\n%s", seen.String())
	}

	out, err := run("up", "--name", "sigint").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "was not finished (Creating); completing it") || !strings.Contains(string(out), `lab "sigint" is ready`) {
		t.Fatalf("up after Ctrl-C: %v\n%s", err, out)
	}
	if out, err := run("down", "--name", "sigint").CombinedOutput(); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
}

func buildLab(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "lab")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "../../cmd/lab")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building lab: %v\n%s", err, msg)
	}
	return out
}
