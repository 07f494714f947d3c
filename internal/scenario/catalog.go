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

// misnamedFile is the name a scenario file is often given by mistake.
const misnamedFile = "scenario.yml"

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
	// Broken are the scenario folders that failed to load, with their problems.
	Broken []Broken
	// Source is SourceEmbedded or the --dir folder.
	Source string
}

// Validation is what scenario files are checked against besides their own folder (see
// spec.ScenarioEnv; Files and Folder are filled per scenario).
type Validation = spec.ScenarioEnv

// Embedded loads the scenarios built into lab.
func Embedded(v Validation) (*Catalog, error) {
	c, err := load(scenarios.FS, subFolders(scenarios.FS), "scenarios", SourceEmbedded, v)
	if err != nil {
		return nil, err
	}
	return c, c.Err() // lab's own scenarios are all good, or lab is broken
}

// FromDir loads the scenarios of a folder an instructor wrote: the folder of one
// scenario (it has a scenario.yaml), or a folder of scenario folders. Each scenario's
// files are read through an os.Root of its folder, so that no symbolic link can make
// lab read outside it (spec refuses such links at load time, with their line; the root
// also holds if a link changes afterwards).
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
	if _, err := os.Stat(filepath.Join(dir, misnamedFile)); err == nil {
		if _, err := os.Stat(filepath.Join(dir, spec.ScenarioFile)); err != nil {
			return nil, misnamed(filepath.Join(dir, misnamedFile))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, spec.ScenarioFile)); err == nil {
		// One scenario: load it from its parent so that its folder has its name.
		return loadFolders(rootedFolders(filepath.Dir(abs)), filepath.Dir(filepath.Clean(dir)), []string{filepath.Base(abs)}, abs, v)
	}
	c, err := load(os.DirFS(abs), rootedFolders(abs), filepath.Clean(dir), abs, v)
	if err == nil && len(c.Scenarios) == 0 && len(c.Broken) == 0 {
		return nil, errs.Invalidf("a scenario is a folder with a scenario.yaml; see docs/scenarios.md", "no scenario in %s", dir)
	}
	return c, err
}

// rootedFolders opens the folders of parent each as an os.Root: reads through it
// never leave the folder, whatever its links say.
func rootedFolders(parent string) func(folder string) (fs.FS, error) {
	return func(folder string) (fs.FS, error) {
		root, err := os.OpenRoot(filepath.Join(parent, folder))
		if err != nil {
			return nil, err
		}
		return root.FS(), nil // closed by its finalizer: scenarios are read for the whole command
	}
}

// subFolders opens the folders of fsys with fs.Sub (the embedded scenarios).
func subFolders(fsys fs.FS) func(folder string) (fs.FS, error) {
	return func(folder string) (fs.FS, error) { return fs.Sub(fsys, folder) }
}

// misnamed is the refusal of a scenario.yml: the file must be named scenario.yaml (one
// name, so that a folder never holds two definitions and every tool finds it).
func misnamed(file string) error {
	return errs.Invalidf("rename it to "+spec.ScenarioFile,
		"found %s; the file that defines a scenario must be named %s", file, spec.ScenarioFile)
}

// load reads every folder of fsys that holds a scenario.yaml, each opened with open;
// shown is how errors name fsys's root.
func load(fsys fs.FS, open func(string) (fs.FS, error), shown, source string, v Validation) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read scenarios in "+shown, "")
	}
	var folders []string
	var broken []Broken
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), spec.ScenarioFile)); err == nil {
			folders = append(folders, e.Name())
		} else if _, err := fs.Stat(fsys, path.Join(e.Name(), misnamedFile)); err == nil {
			broken = append(broken, Broken{Folder: e.Name(), Err: misnamed(filepath.Join(shown, e.Name(), misnamedFile))})
		}
	}
	c, err := loadFolders(open, shown, folders, source, v)
	if c != nil {
		c.Broken = append(broken, c.Broken...)
		sort.Slice(c.Broken, func(i, j int) bool { return c.Broken[i].Folder < c.Broken[j].Folder })
	}
	return c, err
}

// Broken is a scenario folder whose files have problems: the catalog lists it apart,
// so that one broken scenario does not hide the good ones beside it.
type Broken struct {
	// Folder is the scenario's folder name (its metadata.name, when it is right).
	Folder string
	// Err lists every problem (an errs.Invalid wrapping a spec.ErrorList, mostly).
	Err error
}

// loadFolders loads the named scenario folders, each opened with open. A folder with
// problems goes to the catalog's Broken list; the good ones load regardless.
func loadFolders(open func(string) (fs.FS, error), shown string, folders []string, source string, v Validation) (*Catalog, error) {
	c := &Catalog{Source: source}
	for _, folder := range folders {
		sc, err := loadOne(open, shown, folder, source, v)
		switch {
		case err != nil && errs.KindOf(err) == errs.Internal:
			return nil, err
		case err != nil:
			c.Broken = append(c.Broken, Broken{Folder: folder, Err: err})
		default:
			c.Scenarios = append(c.Scenarios, sc)
		}
	}
	sort.Slice(c.Scenarios, func(i, j int) bool { return c.Scenarios[i].Metadata.Name < c.Scenarios[j].Metadata.Name })
	return c, nil
}

// Err is nil when every scenario of the catalog loaded; otherwise errs.Invalid listing
// every problem of every broken one, for commands that need all of them (test --all).
func (c *Catalog) Err() error {
	if len(c.Broken) == 0 {
		return nil
	}
	var problems spec.ErrorList
	var other []string
	for _, b := range c.Broken {
		var list spec.ErrorList
		if errors.As(b.Err, &list) {
			problems = append(problems, list...)
		} else {
			other = append(other, b.Err.Error())
		}
	}
	if len(other) > 0 { // a folder that could not be read at all: every line, as text
		if len(problems) > 0 {
			other = append(other, problems.Error())
		}
		return errs.Invalidf(scenarioHint, "%s", strings.Join(other, "\n"))
	}
	return errs.Wrap(errs.Invalid, problems, "", scenarioHint)
}

const scenarioHint = "docs/scenarios.md describes every field of a scenario; scenarios/k8s-basics is a complete example"

func loadOne(open func(string) (fs.FS, error), shown, folder, source string, v Validation) (*Scenario, error) {
	file := filepath.ToSlash(filepath.Join(shown, folder, spec.ScenarioFile))
	files, err := open(folder)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read "+file, "")
	}
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
	for _, b := range c.Broken {
		if b.Folder == name {
			return nil, b.Err
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
		if t == spec.CheckPromQL || t == spec.CheckAlert || t == spec.CheckHTTP || t == spec.CheckRollout {
			real = append(real, t)
		}
	}
	if len(real) == 0 {
		return true, ""
	}
	slices.Sort(real)
	return false, strings.Join(real, ", ") + " checks need a real cluster (simulated lab)"
}

// Images maps each image the catalog's scenarios declare to the scenarios that run
// it, for bundles.
func (c *Catalog) Images() map[string][]string {
	users := map[string][]string{}
	for _, s := range c.Scenarios {
		for _, img := range s.Spec.Images {
			users[img] = append(users[img], s.Metadata.Name)
		}
	}
	return users
}
