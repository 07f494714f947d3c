package class_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/class"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/testenv"
)

func runLab(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return testenv.RunCLI(t, app.Run, env, args...)
}

func TestInvalidInput(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"up without --students", []string{"class", "up"}, []string{"--students N is required"}},
		{"up with too many students", []string{"class", "up", "--students", "51"}, []string{"--students must be between 1 and 50"}},
		{"up adopting", []string{"class", "up", "--students", "2", "--provider", "existing"}, []string{"--provider existing adopts one"}},
		{"grade of no class", []string{"class", "grade", "k8s-basics", "--name", "nobody"}, []string{`no class "nobody"`}},
		{"grade with a bad format", []string{"class", "grade", "k8s-basics", "-o", "pdf"}, []string{`unknown scoreboard format "pdf"`}},
		{"grade of a missing checks file", []string{"class", "grade", "./week9.yaml"}, []string{"week9.yaml does not exist"}},
		{"down of no class", []string{"class", "down", "--name", "nobody"}, []string{`no class "nobody"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ExpectExit(t, app.Run, tc.args, errs.ExitInvalid, tc.stderr...)
		})
	}
}

// TestClassScenarioOnSimLabs: lab class up of two sim labs, lab class start of a
// built-in scenario in both, one student's first step done (by lab scenario solve in
// their lab), lab class grade of the scenario (a column per step, exit 3 while steps
// are not done), lab class down.
func TestClassScenarioOnSimLabs(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.PrivateEnv(t)
	env[sim.BinDirEnv] = bin
	dir := t.TempDir()
	file := filepath.Join(dir, "room.yaml")
	def := "apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Lab\nmetadata: {name: room}\nspec:\n  cluster:\n    provider: sim\n    nodes: [{role: control-plane}]\n"
	if err := os.WriteFile(file, []byte(def), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "students")
	if code, _, stderr := runLab(t, env, "class", "up", "--name", "room", "--students", "2", "-f", file, "--out", out, "--cards"); code != 0 {
		t.Fatalf("lab class up: exit %d\n%s", code, stderr)
	}
	t.Cleanup(func() { runLab(t, env, "class", "down", "--name", "room") })
	if code, _, stderr := runLab(t, env, "class", "start", "k8s-basics", "--name", "room", "--yes"); code != 0 {
		t.Fatalf("lab class start: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runLab(t, env, "scenario", "solve", "--step", "1", "--name", "room-student01", "--yes"); code != 0 {
		t.Fatalf("lab scenario solve in student01's lab: exit %d\n%s", code, stderr)
	}

	var board class.Scoreboard
	deadline := time.Now().Add(time.Minute)
	for {
		code, stdout, stderr := runLab(t, env, "class", "grade", "k8s-basics", "--name", "room", "-o", "json")
		if code != errs.ExitChecksFailed {
			t.Fatalf("lab class grade: exit %d, want 3 (steps not done)\n%s\n%s", code, stdout, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &board); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		// The solution's Deployment becomes available within seconds on sim.
		if board.Students[0].Steps[0].Passed || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if board.Checks != "k8s-basics" || len(board.Steps) != 5 {
		t.Fatalf("board of %q with steps %v, want k8s-basics with 5", board.Checks, board.Steps)
	}
	s1, s2 := board.Students[0], board.Students[1]
	if !s1.Steps[0].Passed || s1.Steps[0].Awarded == 0 || s1.Steps[1].Passed {
		t.Errorf("student01 did step 1 only: %+v", s1.Steps)
	}
	if s2.Steps[0].Passed || s2.Report.Score.Awarded != 0 {
		t.Errorf("student02 did nothing: %+v, %d points", s2.Steps, s2.Report.Score.Awarded)
	}
	if code, _, stderr := runLab(t, env, "class", "down", "--name", "room"); code != 0 {
		t.Fatalf("lab class down: exit %d\n%s", code, stderr)
	}
}
