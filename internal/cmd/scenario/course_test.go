package scenario_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// copyTree copies the folder from into to (files only; the fixtures have no links).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// course is a folder of scenarios: tiny (good) and check-without-points (broken).
func course(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "course")
	copyTree(t, "../../scenario/testdata/scenarios/tiny", filepath.Join(dir, "tiny"))
	copyTree(t, badScenarios+"check-without-points", filepath.Join(dir, "check-without-points"))
	return dir
}

// TestBrokenSibling: one broken scenario does not hide the good one beside it. list
// shows both (the broken one with its problems, in the table and in -o json) and exits
// 2, naming every problem; show of the good one works, and of the broken one gives
// its problems.
func TestBrokenSibling(t *testing.T) {
	dir := course(t)
	env := testenv.PrivateEnv(t)
	code, stdout, stderr := runLab(t, env, "scenario", "list", "--dir", dir)
	if code != errs.ExitInvalid {
		t.Fatalf("list: exit %d, want %d\n%s", code, errs.ExitInvalid, stderr)
	}
	for _, want := range []string{"tiny", "check-without-points", "BROKEN: 1 problem (listed below)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list table lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range []string{"1 scenario in " + dir + " cannot be loaded (check-without-points); the others can be started",
		"check-without-points/scenario.yaml:14: spec.steps[0].checks[0].points: is required in a scenario"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("list stderr lacks %q:\n%s", want, stderr)
		}
	}

	code, stdout, _ = runLab(t, env, "scenario", "list", "--dir", dir, "-o", "json")
	var entries []struct {
		Name     string
		Steps    int
		Problems []string
	}
	if err := json.Unmarshal([]byte(stdout), &entries); code != errs.ExitInvalid || err != nil {
		t.Fatalf("list -o json: exit %d, %v\n%s", code, err, stdout)
	}
	if len(entries) != 2 || entries[0].Name != "tiny" || entries[0].Steps != 2 || len(entries[0].Problems) != 0 ||
		entries[1].Name != "check-without-points" || len(entries[1].Problems) != 1 || !strings.Contains(entries[1].Problems[0], "scenario.yaml:14:") {
		t.Errorf("list -o json = %+v, want tiny, then check-without-points with its problem at line 14", entries)
	}

	if code, stdout, stderr := runLab(t, env, "scenario", "show", "tiny", "--dir", dir); code != 0 || !strings.Contains(stdout, "tiny") {
		t.Errorf("show of the good scenario: exit %d\n%s\n%s", code, stdout, stderr)
	}
	testenv.ExpectExit(t, app.Run, []string{"scenario", "show", "check-without-points", "--dir", dir}, errs.ExitInvalid, "scenario.yaml:14: spec.steps[0].checks[0].points")
	testenv.ExpectExit(t, app.Run, []string{"scenario", "test", "--all", "--dir", dir}, errs.ExitInvalid, "scenario.yaml:14: spec.steps[0].checks[0].points")
}

// TestShowSuggestsDir: show's start command works as typed: it keeps --dir (quoted
// when the path needs it) and --name.
func TestShowSuggestsDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my course")
	copyTree(t, "../../scenario/testdata/scenarios/tiny", filepath.Join(dir, "tiny"))
	code, stdout, stderr := runLab(t, testenv.PrivateEnv(t), "scenario", "show", "tiny", "--dir", dir, "--name", "week2")
	want := "lab scenario start tiny --dir '" + dir + "' --name week2"
	if code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("show: exit %d, want the note %q:\n%s\n%s", code, want, stdout, stderr)
	}
	code, stdout, _ = runLab(t, testenv.PrivateEnv(t), "scenario", "show", "k8s-basics")
	if code != 0 || !strings.Contains(stdout, "lab scenario start k8s-basics`") || !strings.Contains(stdout, "(5 points: ") && !strings.Contains(stdout, "points: ") {
		t.Errorf("show of a built-in scenario: exit %d\n%s", code, stdout)
	}
}

// TestCourseBadInput: a folder's mistakes that are not in a scenario file.
func TestCourseBadInput(t *testing.T) {
	misnamed := filepath.Join(t.TempDir(), "mine")
	copyTree(t, "../../scenario/testdata/scenarios/tiny", misnamed)
	if err := os.Rename(filepath.Join(misnamed, "scenario.yaml"), filepath.Join(misnamed, "scenario.yml")); err != nil {
		t.Fatal(err)
	}
	withMisnamed := course(t)
	copyTree(t, misnamed, filepath.Join(withMisnamed, "mine"))

	linked := course(t)
	outside := filepath.Join(t.TempDir(), "outside.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: outside}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(linked, "tiny", "setup", "evil.yaml")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"a scenario.yml", []string{"scenario", "list", "--dir", misnamed},
			[]string{"found " + filepath.Join(misnamed, "scenario.yml") + "; the file that defines a scenario must be named scenario.yaml"}},
		{"a scenario.yml beside good scenarios", []string{"scenario", "list", "--dir", withMisnamed},
			[]string{"mine/scenario.yml; the file that defines a scenario must be named scenario.yaml"}},
		{"a link out of the scenario's folder", []string{"scenario", "show", "tiny", "--dir", linked},
			[]string{"tiny/scenario.yaml:", "spec.setup[0].apply: inside setup: setup/evil.yaml is a symbolic link to " + outside + ", outside the scenario's folder"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ExpectExit(t, app.Run, tc.args, errs.ExitInvalid, tc.stderr...)
		})
	}
}
