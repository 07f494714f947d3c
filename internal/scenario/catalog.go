// Package scenario is the scenario timeline: it starts a scenario on a lab (stacks,
// a namespace of its own, setup), grades the current step with internal/grade, hands
// out hints one at a time, solves steps, resets, and keeps the trainee's progress in
// <state>/labs/<lab>/scenario.json. Its self-test proves a scenario's checks: each
// step's fail before its solution and pass after it.
//
// Engines never print: progress goes to an event.Emitter, failures are *errs.Error,
// and results are values the command layer renders.
package scenario

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/scenarios"
)

// LabelScenario marks a scenario's namespace with the scenario's name.
const LabelScenario = "lab.cloudnativelab.io/scenario"

// SourceEmbedded is the Source of the scenarios built into lab.
const SourceEmbedded = "embedded"

// Scenario is a loaded scenario with the files of its folder.
type Scenario struct {
	*spec.Scenario
	// Files is the scenario's folder: step texts, manifests, charts.
	Files fs.FS
	// Source is SourceEmbedded or the folder it was loaded from.
	Source string
}

// Catalog is a set of scenarios, sorted by name.
type Catalog struct {
	Scenarios []*Scenario
	// Source is SourceEmbedded or the --dir folder.
	Source string
}

// Validation is what scenario files are checked against besides their own folder (see
// spec.ScenarioEnv; Files and Folder are filled per scenario).
type Validation = spec.ScenarioEnv

// Embedded loads the scenarios built into lab.
func Embedded(v Validation) (*Catalog, error) {
	return load(scenarios.FS, "scenarios", SourceEmbedded, v)
}

// FromDir loads the scenarios of a folder an instructor wrote: the folder of one
// scenario (it has a scenario.yaml), or a folder of scenario folders.
func FromDir(dir string, v Validation) (*Catalog, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read scenario folder "+dir, "--dir takes a scenario's folder or a folder of scenario folders")
	}
	if !info.IsDir() {
		return nil, errs.Invalidf("--dir takes a folder; a scenario is a folder with a scenario.yaml", "%s is not a folder", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "", "")
	}
	if _, err := os.Stat(filepath.Join(dir, spec.ScenarioFile)); err == nil {
		// One scenario: load it from its parent so that its folder has its name.
		return loadFolders(os.DirFS(filepath.Dir(abs)), filepath.Dir(filepath.Clean(dir)), []string{filepath.Base(abs)}, abs, v)
	}
	c, err := load(os.DirFS(abs), filepath.Clean(dir), abs, v)
	if err == nil && len(c.Scenarios) == 0 {
		return nil, errs.Invalidf("a scenario is a folder with a scenario.yaml; see docs/scenarios.md", "no scenario in %s", dir)
	}
	return c, err
}

// load reads every folder of fsys that holds a scenario.yaml; shown is how errors name
// fsys's root.
func load(fsys fs.FS, shown, source string, v Validation) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read scenarios in "+shown, "")
	}
	var folders []string
	for _, e := range entries {
		if _, err := fs.Stat(fsys, path.Join(e.Name(), spec.ScenarioFile)); e.IsDir() && err == nil {
			folders = append(folders, e.Name())
		}
	}
	return loadFolders(fsys, shown, folders, source, v)
}

// loadFolders loads the named scenario folders of fsys, reporting every problem of
// every file at once.
func loadFolders(fsys fs.FS, shown string, folders []string, source string, v Validation) (*Catalog, error) {
	c := &Catalog{Source: source}
	var problems spec.ErrorList
	var other []error
	for _, folder := range folders {
		sc, err := loadOne(fsys, shown, folder, source, v)
		var list spec.ErrorList
		switch {
		case errors.As(err, &list):
			problems = append(problems, list...)
		case err != nil:
			other = append(other, err)
		default:
			c.Scenarios = append(c.Scenarios, sc)
		}
	}
	if len(other) > 0 {
		return nil, other[0]
	}
	if len(problems) > 0 {
		return nil, errs.Wrap(errs.Invalid, problems, "", "docs/scenarios.md describes every field of a scenario; scenarios/k8s-basics is a complete example")
	}
	sort.Slice(c.Scenarios, func(i, j int) bool { return c.Scenarios[i].Metadata.Name < c.Scenarios[j].Metadata.Name })
	return c, nil
}

func loadOne(fsys fs.FS, shown, folder, source string, v Validation) (*Scenario, error) {
	files, err := fs.Sub(fsys, folder)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "", "")
	}
	file := filepath.ToSlash(filepath.Join(shown, folder, spec.ScenarioFile))
	data, err := fs.ReadFile(files, spec.ScenarioFile)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read "+file, "")
	}
	v.Files, v.Folder = files, folder
	sc, err := spec.LoadScenario(file, data, v)
	if err != nil {
		return nil, err
	}
	return &Scenario{Scenario: sc, Files: files, Source: source}, nil
}

// Names lists the catalog's scenario names.
func (c *Catalog) Names() []string {
	names := make([]string, len(c.Scenarios))
	for i, s := range c.Scenarios {
		names[i] = s.Metadata.Name
	}
	return names
}

// Get finds a scenario by name; an unknown name is errs.Invalid listing the known ones.
func (c *Catalog) Get(name string) (*Scenario, error) {
	for _, s := range c.Scenarios {
		if s.Metadata.Name == name {
			return s, nil
		}
	}
	where := "built into lab"
	if c.Source != SourceEmbedded {
		where = "in " + c.Source
	}
	hint := "see `lab scenario list`"
	if names := c.Names(); len(names) > 0 {
		hint = "scenarios " + where + ": " + strings.Join(names, ", ")
	}
	if guess := closestName(name, c.Names()); guess != "" {
		return nil, errs.Invalidf(hint, "no scenario named %q %s (did you mean %q?)", name, where, guess)
	}
	return nil, errs.Invalidf(hint, "no scenario named %q %s", name, where)
}

// closestName is a name that starts like name or contains it, for "did you mean".
func closestName(name string, names []string) string {
	for _, n := range names {
		if n != name && (strings.Contains(n, name) || strings.HasPrefix(name, n)) && len(name) >= 3 {
			return n
		}
	}
	return ""
}

// Step returns step i (0-based) of the scenario.
func (s *Scenario) Step(i int) (*spec.Step, error) {
	if i < 0 || i >= len(s.Spec.Steps) {
		return nil, errs.Invalidf(fmt.Sprintf("scenario %s has steps 1 to %d", s.Metadata.Name, len(s.Spec.Steps)),
			"no step %d in scenario %s", i+1, s.Metadata.Name)
	}
	return &s.Spec.Steps[i], nil
}

// Supported says whether the scenario can be fully graded on a lab, and why not: the
// check types that need a real cluster on a simulated one.
func (s *Scenario) Supported(simulated bool) (bool, string) {
	if !simulated {
		return true, ""
	}
	var real []string
	for _, t := range s.Needs() {
		if t == spec.CheckPromQL || t == spec.CheckAlert || t == spec.CheckHTTP {
			real = append(real, t)
		}
	}
	if len(real) == 0 {
		return true, ""
	}
	slices.Sort(real)
	return false, strings.Join(real, ", ") + " checks need a real cluster (simulated lab)"
}
