package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linkScenario is a scenario whose paths are filled per test: files on line 8, setup's
// apply on line 10, the step's text on 13 and solution on 14, its solve's apply on 18.
const linkScenario = `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Scenario
metadata: {name: links, title: Links}
spec:
  summary: Symbolic links.
  level: beginner
  duration: 10m
  files: [FILES]
  setup:
    - apply: SETUP
  steps:
    - title: One
      text: TEXT
      solution: SOLUTION
      checks:
        - {id: one, points: 1, resource: {apiVersion: v1, kind: ConfigMap, name: one}}
      solve:
        - apply: SOLVE
`

const linkManifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n"

// linkFixture builds, in a temporary folder, course/links (the scenario, every path of
// it a plain file or folder) and outside/ (what no link may reach); it returns the
// scenario's folder and the outside folder.
func linkFixture(t *testing.T) (string, string) {
	t.Helper()
	root := t.TempDir()
	dir, outside := filepath.Join(root, "course", "links"), filepath.Join(root, "outside")
	for file, data := range map[string]string{
		"setup/ns.yaml":        linkManifest,
		"solution/one.yaml":    linkManifest,
		"steps/one.md":         "Do it.\n",
		"steps/solution.md":    "Like this.\n",
		"handout/notes.txt":    "notes\n",
		"shared/one.md":        "Shared text.\n",
		"shared/one.yaml":      linkManifest,
		"../../outside/x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: outside}\n",
		"../../outside/x.md":   "secret\n",
	} {
		writeTestFile(t, filepath.Join(dir, file), data)
	}
	return dir, outside
}

func writeTestFile(t *testing.T, file, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScenarioSymlinks: every path a scenario names is resolved at load time, and a
// symbolic link that leads out of the scenario's folder, on the way or inside a folder
// entry, is refused at the entry's line; links that stay inside are fine.
func TestScenarioSymlinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// links maps a link (relative to the scenario's folder) to its target;
		// "OUTSIDE/" starts an absolute target in the outside folder.
		links map[string]string
		// paths replace the defaults of linkScenario's entries.
		paths map[string]string
		field string // "" when the scenario loads
		line  int
		want  string
	}{
		{name: "setup folder linked outside", links: map[string]string{"setup-out": "../../outside"},
			paths: map[string]string{"SETUP": "setup-out/"}, field: "spec.setup[0].apply", line: 10, want: "setup-out is a symbolic link to ../../outside, outside the scenario's folder"},
		{name: "file inside an applied folder linked outside", links: map[string]string{"setup/evil.yaml": "../../../outside/x.yaml"},
			field: "spec.setup[0].apply", line: 10, want: "inside setup: setup/evil.yaml is a symbolic link to ../../../outside/x.yaml"},
		{name: "absolute link in an applied folder", links: map[string]string{"setup/evil.yaml": "OUTSIDE/x.yaml"},
			field: "spec.setup[0].apply", line: 10, want: "inside setup: setup/evil.yaml is a symbolic link to /"},
		{name: "setup file linked outside", links: map[string]string{"setup-file.yaml": "../../outside/x.yaml"},
			paths: map[string]string{"SETUP": "setup-file.yaml"}, field: "spec.setup[0].apply", line: 10, want: "setup-file.yaml is a symbolic link"},
		{name: "solution file linked outside", links: map[string]string{"solution/evil.yaml": "../../../outside/x.yaml"},
			paths: map[string]string{"SOLVE": "solution/evil.yaml"}, field: "spec.steps[0].solve[0].apply", line: 18, want: "solution/evil.yaml is a symbolic link"},
		{name: "handout folder with a link outside", links: map[string]string{"handout/secret": "../../../outside/x.md"},
			field: "spec.files[0]", line: 8, want: "inside handout: handout/secret is a symbolic link"},
		{name: "handout linked outside", links: map[string]string{"handout-out": "../../outside"},
			paths: map[string]string{"FILES": "handout-out"}, field: "spec.files[0]", line: 8, want: "handout-out is a symbolic link"},
		{name: "step text linked outside", links: map[string]string{"steps/evil.md": "../../../outside/x.md"},
			paths: map[string]string{"TEXT": "steps/evil.md"}, field: "spec.steps[0].text", line: 13, want: "steps/evil.md is a symbolic link"},
		{name: "solution text linked outside", links: map[string]string{"steps/evil.md": "OUTSIDE/x.md"},
			paths: map[string]string{"SOLUTION": "steps/evil.md"}, field: "spec.steps[0].solution", line: 14, want: "steps/evil.md is a symbolic link to /"},
		{name: "a folder on the way linked outside", links: map[string]string{"via": "../../outside"},
			paths: map[string]string{"TEXT": "via/x.md"}, field: "spec.steps[0].text", line: 13, want: "via is a symbolic link"},
		{name: "a link inside that climbs out through another link", links: map[string]string{"steps/up": "..", "steps/evil.md": "up/../../outside/x.md"},
			paths: map[string]string{"TEXT": "steps/evil.md"}, field: "spec.steps[0].text", line: 13, want: "outside the scenario's folder"},
		{name: "a folder entry whose inside link leads to a folder with an outside link",
			links: map[string]string{"handout/more": "../shared", "shared/evil": "../../../outside"},
			field: "spec.files[0]", line: 8, want: "inside shared: shared/evil is a symbolic link"},
		{name: "links that stay inside are fine",
			links: map[string]string{"steps/linked.md": "../shared/one.md", "solution/linked.yaml": "../shared/one.yaml", "setup-link": "setup", "handout/more": "../shared", "handout/loop": "."},
			paths: map[string]string{"TEXT": "steps/linked.md", "SOLVE": "solution/linked.yaml", "SETUP": "setup-link/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, outside := linkFixture(t)
			for link, target := range tt.links {
				target = strings.Replace(target, "OUTSIDE", outside, 1)
				if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
					t.Fatal(err)
				}
			}
			doc := linkScenario
			for key, def := range map[string]string{"FILES": "handout", "SETUP": "setup/", "TEXT": "steps/one.md", "SOLUTION": "steps/solution.md", "SOLVE": "solution/one.yaml"} {
				if p, ok := tt.paths[key]; ok {
					def = p
				}
				doc = strings.Replace(doc, key, def, 1)
			}
			// Through os.Root, as lab reads a --dir, and through os.DirFS, which follows
			// every link: the check does not depend on the FS refusing escapes.
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			for fsName, env := range map[string]ScenarioEnv{"root": {Files: root.FS(), Folder: "links"}, "dirfs": {Files: os.DirFS(dir), Folder: "links"}} {
				_, err := LoadScenario("links/scenario.yaml", []byte(doc), env)
				if tt.field == "" {
					if err != nil {
						t.Errorf("%s: links inside the folder were refused:\n%v", fsName, err)
					}
					continue
				}
				found := false
				for _, e := range requireFieldErrors(t, err) {
					if e.Field == tt.field && e.Line == tt.line && strings.Contains(e.Message, tt.want) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no error at line %d on %s containing %q; got:\n%v", fsName, tt.line, tt.field, tt.want, err)
				}
			}
		})
	}
}
