package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runLab runs the CLI in-process with the given environment.
func runLab(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return testenv.RunCLI(t, Run, env, args...)
}

func TestExitCodesAndMessages(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"bad lab file names file, line and field", []string{"up", "-f", "testdata/bad-lab.yaml"}, errs.ExitInvalid,
			[]string{"testdata/bad-lab.yaml:4: metadata.name:", "testdata/bad-lab.yaml:7: spec.cluster.provider:", "testdata/bad-lab.yaml:8: spec.cluster.nodse: unknown field", "did you mean \"nodes\"", "testdata/bad-lab.yaml:9: spec.cluster.ports", "testdata/bad-lab.yaml:10: spec.profile:"}},
		{"missing lab file", []string{"up", "-f", "testdata/none.yaml"}, errs.ExitInvalid, []string{"none.yaml"}},
		{"unknown embedded lab", []string{"up", "--lab", "nope"}, errs.ExitInvalid, []string{"nope", "default", "full"}},
		{"bad provider flag", []string{"up", "--provider", "docker"}, errs.ExitInvalid, []string{`invalid --provider "docker"`}},
		{"file and lab together", []string{"up", "-f", "x.yaml", "--lab", "full"}, errs.ExitInvalid, []string{"file", "lab"}},
		{"unknown output format", []string{"status", "-o", "xml"}, errs.ExitInvalid, []string{`unknown output format "xml"`}},
		{"unknown command", []string{"frobnicate"}, errs.ExitInvalid, []string{`unknown command "frobnicate"`}},
		{"unknown flag", []string{"up", "--frob"}, errs.ExitInvalid, []string{"unknown flag: --frob"}},
		{"stray argument", []string{"down", "extra"}, errs.ExitInvalid, []string{"takes no arguments"}},
		{"status of a missing lab", []string{"status", "--name", "ghost"}, errs.ExitInvalid, []string{`no lab named "ghost"`, "Hint: create it with `lab up`"}},
		{"bad lab name", []string{"down", "--name", "Bad_Name"}, errs.ExitInvalid, []string{`invalid lab name "Bad_Name"`}},
		{"down of a missing lab is a note", []string{"down", "--name", "ghost"}, errs.ExitOK, []string{`no lab named "ghost": nothing to delete`}},
		{"kind without Docker", []string{"up", "--provider", "kind", "--name", "needs-docker"}, errs.ExitError, []string{"Docker is not reachable", "Hint:", "--provider sim"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ExpectExit(t, Run, tc.args, tc.code, tc.stderr...)
		})
	}
}

func TestBadLabFileGolden(t *testing.T) {
	_, _, stderr := runLab(t, testenv.PrivateEnv(t), "up", "-f", "testdata/bad-lab.yaml")
	golden(t, "testdata/bad-lab.stderr", stderr)
}

func TestKindWithoutDockerLeavesNoLab(t *testing.T) {
	env := testenv.PrivateEnv(t)
	if code, _, _ := runLab(t, env, "up", "--provider", "kind", "--name", "nodocker"); code != errs.ExitError {
		t.Fatalf("exit code = %d", code)
	}
	if entries, _ := os.ReadDir(filepath.Join(env["LAB_STATE_DIR"], "labs")); len(entries) != 0 {
		t.Fatalf("a failed preflight left state behind: %v", entries)
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, _ := runLab(t, testenv.PrivateEnv(t), "version", "-o", "json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v["version"] == "" || v["go"] == "" {
		t.Fatalf("version -o json = %d %q", code, stdout)
	}
}

func TestListWithNoLabs(t *testing.T) {
	code, stdout, stderr := runLab(t, testenv.PrivateEnv(t), "list")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "No labs yet") {
		t.Fatalf("list = %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runLab(t, testenv.PrivateEnv(t), "list", "-o", "json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("list -o json = %d %q", code, stdout)
	}
}

// TestSimLabLifecycle drives the CLI as a user would on a machine without Docker:
// up (JSON events), status -o json, kubeconfig, up again, down.
func TestSimLabLifecycle(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.PrivateEnv(t)
	env["LAB_SIM_BIN_DIR"] = bin
	t.Cleanup(func() { runLab(t, env, "down", "--name", "cli") })

	code, stdout, stderr := runLab(t, env, "up", "--name", "cli", "-o", "json")
	if code != 0 {
		t.Fatalf("up exit %d:\n%s", code, stderr)
	}
	events := jsonLines(t, stdout)
	last := events[len(events)-1]
	if last.Type != event.Result || last.Fields["provider"] != "sim" || last.Fields["context"] != "lab-cli" {
		t.Fatalf("last event = %+v", last)
	}
	if !hasStep(events, "Creating cluster (sim)", event.StepDone) || !hasStep(events, "Waiting for 2 nodes to be Ready", event.StepDone) {
		t.Fatalf("events lack the create and wait steps: %+v", events)
	}
	if !strings.Contains(stdout, "kubectl's current context is now lab-cli (no context was current before)") {
		t.Fatalf("up does not say it made lab-cli kubectl's current context: %s", stdout)
	}
	if !strings.Contains(events[0].Message, "Docker is not reachable") {
		t.Fatalf("first event should say why the lab is simulated: %+v", events[0])
	}

	code, stdout, _ = runLab(t, env, "status", "-o", "json")
	var st map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil {
		t.Fatalf("status -o json = %d %q", code, stdout)
	}
	if st["provider"] != "sim" || st["context"] != "lab-cli" || st["state"] != "running" || !strings.Contains(st["note"].(string), "no container runs") {
		t.Fatalf("status = %v", st)
	}

	code, stdout, _ = runLab(t, env, "kubeconfig")
	if code != 0 || !strings.Contains(stdout, "current-context: lab-cli") {
		t.Fatalf("kubeconfig = %d %q", code, stdout)
	}

	code, _, stderr = runLab(t, env, "up", "--name", "cli")
	if code != 0 || !strings.Contains(stderr, `lab "cli" is already up`) {
		t.Fatalf("second up = %d %q", code, stderr)
	}

	code, _, stderr = runLab(t, env, "down")
	if code != 0 || !strings.Contains(stderr, `lab "cli" deleted`) {
		t.Fatalf("down = %d %q", code, stderr)
	}
	if data, _ := os.ReadFile(env["KUBECONFIG"]); bytes.Contains(data, []byte("lab-cli")) {
		t.Fatalf("kubeconfig still mentions lab-cli:\n%s", data)
	}
}

func jsonLines(t *testing.T, s string) []event.Event {
	t.Helper()
	var out []event.Event
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON event: %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		t.Fatal("no events")
	}
	return out
}

func hasStep(events []event.Event, step string, typ event.Type) bool {
	for _, e := range events {
		if e.Step == step && e.Type == typ {
			return true
		}
	}
	return false
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
