package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// testScenarioEnv is what the fixtures are checked against: names lab could know.
func testScenarioEnv(dir string) ScenarioEnv {
	return ScenarioEnv{
		Files: os.DirFS(dir), Folder: filepath.Base(dir),
		Stacks: []string{"demo-shop", "monitoring"}, BundledCharts: []string{"demo-shop"}, Faults: []string{"pod-kill"},
	}
}

func loadScenarioDir(t *testing.T, dir string) (*Scenario, error) {
	t.Helper()
	file := filepath.ToSlash(filepath.Join(dir, ScenarioFile))
	return LoadScenario(file, readFile(t, file), testScenarioEnv(dir))
}

// TestLoadScenarioBadFiles compares the errors of each testdata/scenario/bad/X folder
// with X.err (go test -update rewrites them).
func TestLoadScenarioBadFiles(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/scenario/bad/*")
	dirs = slices.DeleteFunc(dirs, func(d string) bool { return strings.HasSuffix(d, ".err") })
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no bad scenarios: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			sc, err := loadScenarioDir(t, dir)
			if err == nil {
				t.Fatalf("LoadScenario accepted a bad scenario: %+v", sc)
			}
			requireFieldErrors(t, err)
			compareGolden(t, dir+".err", err.Error()+"\n")
		})
	}
}

// TestLoadScenarioErrorPlaces spells out the promises behind the golden files: each
// problem is on the line to edit, under the field's path, and says what is wrong.
func TestLoadScenarioErrorPlaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dir, field string
		line             int
		contains         string
	}{
		{"unknown step field", "unknown-step-field", "spec.steps[0].instructions", 13, `unknown field "instructions"`},
		{"check without points", "check-without-points", "spec.steps[0].checks[0].points", 14, `is required in a scenario: the points passing check "one" is worth`},
		{"solution referring to a missing file", "missing-solution-file", "spec.steps[0].solve[0].apply", 18, "solution/two.yaml does not exist in the scenario's folder"},
		{"text referring to a missing file", "missing-text", "spec.steps[0].text", 12, "steps/missing.md does not exist"},
		{"unknown stack", "bad-action", "spec.stacks[0]", 10, `must be one of demo-shop, monitoring, got "logging"`},
		{"two kinds in one action", "bad-action", "spec.setup[0]", 12, "exactly one of apply, delete, helm, fault, http, rollout; it has apply and delete"},
		{"unknown fault", "bad-action", "spec.setup[1].fault.type", 14, `must be one of pod-kill, got "pod-explode"`},
		{"wait without apply", "bad-action", "spec.setup[2].wait", 16, "is only for apply"},
		{"rollback with a chart", "bad-action", "spec.steps[0].solve[0].helm.chart", 25, "is not used by helm rollback"},
		{"install of a missing chart", "bad-action", "spec.steps[0].solve[1].helm.chart", 26, "no-chart does not exist"},
		{"a path outside the folder", "bad-action", "spec.steps[0].solve[2].apply", 27, "must be a path inside the scenario's folder"},
		{"a step without solution", "steps-problems", "spec.steps[0].solve", 17, "needs at least one action"},
		{"a step without title", "steps-problems", "spec.steps[1].title", 18, "is required"},
		{"an unknown placeholder", "steps-problems", "spec.steps[1].text", 19, "unknown placeholder {{ns}}; known: context, files, lab, namespace"},
		{"an explicit zero", "steps-problems", "spec.steps[1].checks[0].points", 22, "got 0"},
		{"a duplicate check id", "steps-problems", "spec.steps[1].checks[0].id", 21, `duplicate id "one" (already at spec.steps[0].checks[0])`},
		{"a manifest that is not an object", "steps-problems", "spec.steps[1].solve[0].apply", 25, "not-an-object.yaml:5: document 2: kind is required"},
		{"a name that is not the folder's", "wrong-folder", "metadata.name", 4, `must be the name of the scenario's folder "wrong-folder", got "other-name"`},
		{"an unknown level", "wrong-folder", "spec.level", 8, `must be one of beginner, intermediate, advanced, got "expert"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadScenarioDir(t, "testdata/scenario/bad/"+tt.dir)
			found := false
			for _, e := range requireFieldErrors(t, err) {
				if e.Field == tt.field && e.Line == tt.line && strings.Contains(e.Message, tt.contains) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error at line %d on %s containing %q; got:\n%v", tt.line, tt.field, tt.contains, err)
			}
		})
	}
}

func TestLoadScenarioDefaults(t *testing.T) {
	t.Parallel()
	sc, err := loadScenarioDir(t, "testdata/scenario/good/minimal")
	if err != nil {
		t.Fatal(err)
	}
	c := sc.Spec.Steps[0].Checks[0]
	if sc.Namespace() != "sc-minimal" || c.Resource.Namespace != "sc-minimal" {
		t.Errorf("namespace = %q, check namespace = %q, want sc-minimal for both", sc.Namespace(), c.Resource.Namespace)
	}
	if c.Points != 10 || c.Timeout != DefaultCheckTimeout || c.Severity != SeverityError || sc.Points() != 10 {
		t.Errorf("check defaults not applied: %+v", c)
	}
}

// TestScenarioFaultGiven checks that a fault knows which parameters were written, as
// the chaos engine needs, and that its namespace defaults to the scenario's.
func TestScenarioFaultGiven(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"steps/one.md":      {Data: []byte("Go.\n")},
		"solution/one.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n")},
	}
	doc := `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Scenario
metadata: {name: chaos, title: Chaos}
spec:
  summary: Breaks things.
  level: advanced
  duration: 1h
  setup:
    - fault: {type: pod-kill, selector: app=x, count: 1}
  steps:
    - title: Survive
      text: steps/one.md
      round:
        duration: 30s
        faults: [{type: pod-kill, selector: app=x, interval: 5s, seed: 7}]
      checks:
        - {id: one, points: 5, resource: {apiVersion: v1, kind: ConfigMap, name: one}}
      solve: [{apply: solution/one.yaml}]
`
	sc, err := LoadScenario("chaos/scenario.yaml", []byte(doc), ScenarioEnv{Files: files, Faults: []string{"pod-kill"}})
	if err != nil {
		t.Fatal(err)
	}
	setup := sc.Spec.Setup[0].Fault
	if want := []string{"selector", "count"}; !reflect.DeepEqual(setup.Given, want) || setup.Namespace != "sc-chaos" {
		t.Errorf("setup fault given = %v, namespace %q; want %v in sc-chaos", setup.Given, setup.Namespace, want)
	}
	round := sc.Spec.Steps[0].Round.Faults[0]
	if want := []string{"selector", "interval", "seed"}; !reflect.DeepEqual(round.Given, want) {
		t.Errorf("round fault given = %v, want %v", round.Given, want)
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, want string
		unknown    []string
	}{
		{"kubectl --context {{context}} -n {{ namespace }}", "kubectl --context lab-x -n sc-y", nil},
		{"{{files}}/chart and {{lab}}", "/f/chart and x", nil},
		{"{{ns}} {{ns}} {{oops}}", "{{ns}} {{ns}} {{oops}}", []string{"ns", "oops"}},
		{"no braces", "no braces", nil},
	}
	values := map[string]string{"context": "lab-x", "namespace": "sc-y", "files": "/f", "lab": "x"}
	for _, tt := range tests {
		if got := ExpandPlaceholders(tt.text, values); got != tt.want {
			t.Errorf("ExpandPlaceholders(%q) = %q, want %q", tt.text, got, tt.want)
		}
		if got := UnknownPlaceholders(tt.text); !reflect.DeepEqual(got, tt.unknown) {
			t.Errorf("UnknownPlaceholders(%q) = %v, want %v", tt.text, got, tt.unknown)
		}
	}
}

// FuzzLoadScenario: whatever the bytes, loading a scenario returns a scenario or
// file:line errors, never a panic, and an accepted scenario has steps that can be run.
func FuzzLoadScenario(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/scenario/*/*/scenario.yaml")
	for _, file := range dirs {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	files := fstest.MapFS{
		"steps/one.md":      {Data: []byte("Do it in {{namespace}}.\n")},
		"solution/one.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n")},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := LoadScenario("fuzz/scenario.yaml", data, ScenarioEnv{Files: files, Faults: []string{"pod-kill"}})
		if err != nil {
			requireFieldErrors(t, err)
			return
		}
		if len(sc.Spec.Steps) == 0 || sc.Points() < len(sc.Spec.Steps) {
			t.Fatalf("accepted a scenario that cannot run: %+v", sc.Spec)
		}
		for _, st := range sc.Spec.Steps {
			if len(st.Solve) == 0 || len(st.Checks) == 0 {
				t.Fatalf("accepted a step without checks or solution: %+v", st)
			}
		}
	})
}
