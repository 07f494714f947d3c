package app

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/state"
	"github.com/cloudnativelab/lab/internal/testenv"
	"github.com/cloudnativelab/lab/internal/ui"
)

// writeRecord puts a lab's record in the state dir of env, as lab up leaves it.
func writeRecord(t *testing.T, env map[string]string, rec lab.Record) string {
	t.Helper()
	if rec.Spec.Kind == "" {
		def, err := spec.EmbeddedLab("default")
		if err != nil {
			t.Fatal(err)
		}
		rec.Spec = *def
	}
	path := filepath.Join(env["LAB_STATE_DIR"], "labs", rec.Name, "state.json")
	if err := state.WriteJSON(path, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noDocker points docker at a socket nothing serves: the kind provider cannot be
// reached, as when Docker Desktop is stopped.
func noDocker(env map[string]string) map[string]string {
	env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
	return env
}

// TestDownOfAKindLabWithoutDocker: a kind lab whose creation failed while Docker ran
// (lab then saw no cluster: noCluster) is forgotten by `lab down` once Docker is gone;
// one whose cluster may exist is not, unless --force, which says what is left and how
// to remove it. Issue 10.1: before, every one of these failed on "Docker is not
// reachable" and only deleting the state dir by hand helped.
func TestDownOfAKindLabWithoutDocker(t *testing.T) {
	t.Run("cluster may exist: refused without --force, forgotten with it", func(t *testing.T) {
		env := noDocker(testenv.PrivateEnv(t))
		record := writeRecord(t, env, lab.Record{Name: "default", Provider: "kind", Phase: lab.Ready, Context: "lab-default"})
		code, _, stderr := runLab(t, env, "down")
		if code != errs.ExitError {
			t.Fatalf("down exit %d, want %d:\n%s", code, errs.ExitError, stderr)
		}
		for _, want := range []string{`cannot delete the cluster of lab "default"`, "Docker is not reachable", "lab down --name default --force", "kind delete cluster --name lab-default"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("down's stderr lacks %q:\n%s", want, stderr)
			}
		}
		if !state.Exists(record) {
			t.Fatal("a refused down removed the record")
		}
		// Recreating it as a sim lab deletes it first: refused the same way, since
		// its kind cluster would be left behind unnamed.
		code, _, stderr = runLab(t, env, "up", "-f", writeLab(t, "default"), "--provider", "sim", "--recreate", "--yes")
		if code != errs.ExitError || !strings.Contains(stderr, "--force") {
			t.Fatalf("up --recreate = %d, want %d naming --force:\n%s", code, errs.ExitError, stderr)
		}

		code, stdout, stderr := runLab(t, env, "down", "--force", "-o", "json")
		if code != 0 {
			t.Fatalf("down --force exit %d:\n%s", code, stderr)
		}
		events := jsonLines(t, stdout)
		last := events[len(events)-1]
		if !strings.Contains(last.Message, `lab "default" forgotten`) || !strings.Contains(last.Fields["leftBehind"], "kind delete cluster --name lab-default") {
			t.Fatalf("down --force result = %+v", last)
		}
		if state.Exists(filepath.Dir(record)) {
			t.Fatal("down --force left the lab's state dir")
		}
	})

	t.Run("creation failed with no cluster left: forgotten without --force", func(t *testing.T) {
		env := noDocker(testenv.PrivateEnv(t))
		record := writeRecord(t, env, lab.Record{Name: "default", Provider: "kind", Phase: lab.Creating, NoCluster: true})
		code, _, stderr := runLab(t, env, "down")
		if code != 0 || !strings.Contains(stderr, "never got a cluster") || !strings.Contains(stderr, `lab "default" deleted`) {
			t.Fatalf("down = %d:\n%s", code, stderr)
		}
		if state.Exists(filepath.Dir(record)) {
			t.Fatal("the record is still there")
		}
	})
}

// TestRecreateAsSimOfAKindLabThatNeverGotACluster: `lab up --provider sim --recreate`
// of a kind lab whose creation failed is not blocked by Docker being gone.
func TestRecreateAsSimOfAKindLabThatNeverGotACluster(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	env := noDocker(testenv.PrivateEnv(t))
	env["LAB_SIM_BIN_DIR"] = bin
	writeRecord(t, env, lab.Record{Name: "switch", Provider: "kind", Phase: lab.Creating, NoCluster: true})
	t.Cleanup(func() { runLab(t, env, "down", "--name", "switch") })
	code, _, stderr := runLab(t, env, "up", "-f", writeLab(t, "switch"), "--provider", "sim", "--recreate", "--yes")
	if code != 0 {
		t.Fatalf("up --provider sim --recreate = %d:\n%s", code, stderr)
	}
	code, stdout, _ := runLab(t, env, "status", "--name", "switch", "-o", "json")
	var st lab.Status
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || st.Provider != "sim" || st.State != "running" {
		t.Fatalf("status after recreate = %d %s", code, stdout)
	}
}

// TestSeveralLabsWithoutName: with labs "a" and "b" and no --name, commands name the
// labs there are instead of looking for "default".
func TestSeveralLabsWithoutName(t *testing.T) {
	env := testenv.PrivateEnv(t)
	for _, n := range []string{"a", "b"} {
		writeRecord(t, env, lab.Record{Name: n, Provider: "sim", Phase: lab.Creating})
	}
	code, _, stderr := runLab(t, env, "status")
	if code != errs.ExitInvalid || !strings.Contains(stderr, `no lab named "default"; the labs here are: a, b`) || !strings.Contains(stderr, "--name a") {
		t.Fatalf("status = %d:\n%s", code, stderr)
	}
	code, _, stderr = runLab(t, env, "down")
	if code != errs.ExitInvalid || !strings.Contains(stderr, `there are 2 labs (a, b) and none is named "default"`) {
		t.Fatalf("down = %d:\n%s", code, stderr)
	}
	code, stdout, stderr := runLab(t, env, "status", "--name", "a")
	if code != 0 || !strings.Contains(stdout, "Next:") || !strings.Contains(stdout, "its creation did not finish: `lab up --name a` completes it") {
		t.Fatalf("status --name a = %d, want the unfinished lab's next step:\n%s%s", code, stdout, stderr)
	}
}

// TestUpSaysItWaitsForTheLock: a second `lab up` of a lab another process is changing
// says that it waits, and for whom, before it gives up.
func TestUpSaysItWaitsForTheLock(t *testing.T) {
	env := testenv.PrivateEnv(t)
	held, err := state.Acquire(t.Context(), filepath.Join(env["LAB_STATE_DIR"], "locks", "busy.lock"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	code, _, stderr := runLab(t, env, "up", "-f", writeLab(t, "busy"))
	if code != errs.ExitError {
		t.Fatalf("up exit %d:\n%s", code, stderr)
	}
	waiting := strings.Index(stderr, `is changing lab "busy"; waiting up to 1s`)
	gaveUp := strings.LastIndex(stderr, `is changing lab "busy"`)
	if waiting < 0 || gaveUp <= waiting {
		t.Fatalf("stderr does not say it waits before the error:\n%s", stderr)
	}
}

// TestClientGoLogsOnlyWithVerbose: klog lines of client-go (written to the process's
// stderr by default) are dropped, and shown on lab's stderr with -v.
func TestClientGoLogsOnlyWithVerbose(t *testing.T) {
	leaked := captureStderr(t, func() {
		runLab(t, testenv.PrivateEnv(t), "version")
		klog.Error("couldn't get current server API group list: connection refused")
		klog.Flush()
	})
	if strings.Contains(leaked, "couldn't get current server API group list") {
		t.Fatalf("a client-go log line reached the terminal without -v:\n%s", leaked)
	}
	ios, _, _, errOut := ui.Test()
	Run(t.Context(), ios, []string{"-v", "version"})
	klog.Error("shown with -v")
	klog.Flush()
	if !strings.Contains(errOut.String(), "shown with -v") {
		t.Fatalf("with -v the client-go log line is not on lab's stderr: %q", errOut.String())
	}
	routeClientGoLogs(0, ios.ErrOut)
}

// captureStderr runs fn with the process's stderr going to a pipe, and returns what
// was written to it.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		data, _ := io.ReadAll(r)
		done <- string(data)
	}()
	fn()
	os.Stderr = saved
	w.Close()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("reading the captured stderr did not end")
		return ""
	}
}
