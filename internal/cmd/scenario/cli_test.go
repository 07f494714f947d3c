package scenario_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// runLab runs the CLI in-process with the given environment.
func runLab(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return testenv.RunCLI(t, app.Run, env, args...)
}

// badScenarios are the spec package's fixtures of broken scenario folders.
const badScenarios = "../../spec/testdata/scenario/bad/"

func TestInvalidInput(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"a check without points", []string{"scenario", "list", "--dir", badScenarios + "check-without-points"},
			[]string{"check-without-points/scenario.yaml:14: spec.steps[0].checks[0].points: is required in a scenario", "Hint: docs/scenarios.md"}},
		{"an unknown step field", []string{"scenario", "show", "unknown-step-field", "--dir", badScenarios + "unknown-step-field"},
			[]string{`unknown-step-field/scenario.yaml:13: spec.steps[0].instructions: unknown field "instructions"`}},
		{"a solution referring to a missing file", []string{"scenario", "test", "--all", "--dir", badScenarios + "missing-solution-file"},
			[]string{"missing-solution-file/scenario.yaml:18: spec.steps[0].solve[0].apply: solution/two.yaml does not exist"}},
		{"every problem of every scenario at once", []string{"scenario", "list", "--dir", badScenarios},
			[]string{"bad-action/scenario.yaml:10: spec.stacks[0]", "wrong-folder/scenario.yaml:4: metadata.name"}},
		{"an unknown scenario", []string{"scenario", "show", "k8s-basic"}, []string{`no scenario named "k8s-basic" built into lab (did you mean "k8s-basics"?)`}},
		{"a check without a lab", []string{"scenario", "check"}, []string{`no lab named "default"`}},
		{"test without names or --all", []string{"scenario", "test"}, []string{"takes scenario names or --all"}},
		{"run without --auto", []string{"scenario", "run", "k8s-basics"}, []string{"with --auto"}},
		{"solve of step 0", []string{"scenario", "solve", "--step", "0"}, []string{"--step must be at least 1"}},
		{"start without a name", []string{"scenario", "start"}, []string{"takes one scenario name"}},
		{"run --auto for programs", []string{"scenario", "run", "k8s-basics", "--auto", "-o", "json"}, []string{"run --auto is a demonstration for people: -o json is not supported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ExpectExit(t, app.Run, tc.args, errs.ExitInvalid, tc.stderr...)
		})
	}
}

// TestEveryScenarioOnASimLab is `lab scenario test --all` on a real sim lab made by
// `lab up`, with its stacks: k8s-basics and helm-basics must be proven check by check;
// prometheus-alerting and gameday-pod-kill must prove their resource checks and skip,
// with the reason, the checks that need Prometheus or running containers. Then `lab
// scenario run --auto` demonstrates k8s-basics to the end.
func TestEveryScenarioOnASimLab(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a sim lab and runs every scenario: a few minutes")
	}
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.PrivateEnv(t)
	env[sim.BinDirEnv] = bin
	if code, _, stderr := runLab(t, env, "up", "--provider", "sim", "--name", "scenarios"); code != 0 {
		t.Fatalf("lab up: exit %d\n%s", code, stderr)
	}
	t.Cleanup(func() { runLab(t, env, "down", "--name", "scenarios") })

	code, stdout, stderr := runLab(t, env, "scenario", "test", "--all", "--name", "scenarios", "-o", "json")
	if code != 0 {
		t.Fatalf("lab scenario test --all: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var reports []scenario.TestReport
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	wantSkipped := map[string]int{"k8s-basics": 0, "helm-basics": 0, "prometheus-alerting": 2, "gameday-pod-kill": 2,
		"canary-analysis": 2, "blue-green-judgment": 3}
	if len(reports) != len(wantSkipped) {
		t.Fatalf("tested %d scenarios, want %d", len(reports), len(wantSkipped))
	}
	for _, r := range reports {
		if r.Error != "" || r.Bad != 0 || r.Proven == 0 || r.Skipped != wantSkipped[r.Scenario] {
			t.Errorf("%s: %+v; want no error, nothing bad, %d skipped", r.Scenario, r, wantSkipped[r.Scenario])
		}
		for _, c := range r.Checks {
			if c.Verdict == scenario.NotRun && !strings.HasPrefix(c.Why, "needs a real cluster") {
				t.Errorf("%s/%s skipped without the reason: %q", r.Scenario, c.ID, c.Why)
			}
		}
	}

	code, stdout, stderr = runLab(t, env, "scenario", "run", "k8s-basics", "--auto", "--pause", "0s", "--name", "scenarios")
	if code != 0 {
		t.Fatalf("lab scenario run --auto: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"[instructor] Solution:", "Step 5 of 5 done: solved by lab, 0/15 points", "Scenario k8s-basics complete", "Final score: 0/100 (0%)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run --auto output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(env["LAB_STATE_DIR"], "labs", "scenarios", scenario.StateFile)); err != nil {
		t.Errorf("no scenario state written: %v", err)
	}
	machineReadableStartAndSolve(t, env)
	symlinkedSetupRefused(t, env)
}

// symlinkedSetupRefused is `lab scenario test --all --dir` of a course whose scenario's
// setup folder is a link to a folder outside it, holding a Namespace: the test exits 2
// at the setup entry's line, and the lab's API server has no such namespace (lab grade
// asks it). Before links were resolved, this exited 0 and created the namespace.
func symlinkedSetupRefused(t *testing.T, env map[string]string) {
	t.Helper()
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "ns.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: outside-by-link}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "course")
	copyTree(t, "../../scenario/testdata/scenarios/tiny", filepath.Join(dir, "tiny"))
	setup := filepath.Join(dir, "tiny", "setup")
	if err := os.RemoveAll(setup); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../outside", setup); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runLab(t, env, "scenario", "test", "--all", "--dir", dir, "--name", "scenarios")
	if code != errs.ExitInvalid || !strings.Contains(stderr, "tiny/scenario.yaml:12: spec.setup[0].apply: setup is a symbolic link to ../../outside, outside the scenario's folder") {
		t.Errorf("scenario test of a linked setup: exit %d, want %d at the setup's line\n%s\n%s", code, errs.ExitInvalid, stdout, stderr)
	}
	checks := filepath.Join(root, "checks.yaml")
	doc := "apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Checks\nmetadata: {name: escape}\nspec:\n  checks:\n    - {id: outside, timeout: 1s, interval: 500ms, resource: {apiVersion: v1, kind: Namespace, name: outside-by-link}}\n"
	if err := os.WriteFile(checks, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runLab(t, env, "grade", checks, "--name", "scenarios"); code != errs.ExitChecksFailed || !strings.Contains(stdout, "not found") {
		t.Errorf("lab grade of the outside namespace: exit %d, want %d (not found)\n%s\n%s", code, errs.ExitChecksFailed, stdout, stderr)
	}
}

// machineReadableStartAndSolve checks that start and solve with -o json print one JSON
// document each: the start names the scenario it replaced, the solve holds the grading.
func machineReadableStartAndSolve(t *testing.T, env map[string]string) {
	t.Helper()
	code, stdout, stderr := runLab(t, env, "scenario", "start", "k8s-basics", "--name", "scenarios", "-o", "json")
	var started struct {
		Scenario string
		Replaced string
		Step     struct{ Number int }
	}
	if err := json.Unmarshal([]byte(stdout), &started); code != 0 || err != nil {
		t.Fatalf("start -o json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	if started.Scenario != "k8s-basics" || started.Replaced != "k8s-basics" || started.Step.Number != 1 {
		t.Errorf("start -o json = %+v, want k8s-basics at step 1, replacing the finished run", started)
	}
	code, stdout, stderr = runLab(t, env, "scenario", "solve", "--name", "scenarios", "-o", "json")
	var solved struct {
		Solution string
		Check    struct{ Report struct{ Passed bool } }
	}
	if err := json.Unmarshal([]byte(stdout), &solved); code != 0 || err != nil {
		t.Fatalf("solve -o json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	if solved.Solution == "" || !solved.Check.Report.Passed {
		t.Errorf("solve -o json = %+v, want the solution and a passed check", solved)
	}
}
