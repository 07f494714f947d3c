package spec

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// scenarioHint follows every list of problems in a scenario file.
const scenarioHint = "docs/scenarios.md describes every field of a scenario; scenarios/k8s-basics is a complete example"

// ScenarioEnv is what a scenario file is checked against beyond its own text: the
// files of its folder and the names lab knows. A nil field is not checked.
type ScenarioEnv struct {
	// Files is the scenario's folder: text, solution, apply, chart and files paths must
	// exist in it.
	Files fs.FS
	// Folder is the folder's name; metadata.name must equal it.
	Folder string
	// Stacks are the stack catalog's names.
	Stacks []string
	// BundledCharts are lab's bundled charts, for helm actions' bundledChart.
	BundledCharts []string
	// Faults are the chaos faults' names.
	Faults []string
	// CheckChart loads a chart folder of the scenario, as Helm would.
	CheckChart func(files fs.FS, dir string) error
	// CheckFault validates a fault's parameters: a message per parameter (camelCase),
	// or "" for the fault as a whole.
	CheckFault func(f Fault) map[string]string
}

// LoadScenario reads a scenario file strictly, applies defaults and validates it with
// the files of its folder. The error lists every problem as file:line: field: message
// and is an errs.Invalid wrapping an ErrorList.
func LoadScenario(file string, data []byte, env ScenarioEnv) (*Scenario, error) {
	var sc Scenario
	src, err := DecodeVersioned(file, data, APIVersion, KindScenario, &sc)
	if src == nil {
		return nil, err
	}
	src.Hint = scenarioHint
	v := &scenarioValidator{src: src, env: env, namespace: sc.Namespace(), checkIDs: map[string]string{}}
	v.scenario(&sc)
	if err := src.Err(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// scenarioValidator records the problems of one scenario file.
type scenarioValidator struct {
	src       *Source
	env       ScenarioEnv
	namespace string
	// checkIDs maps each check id to where it was first used: ids are unique across
	// the scenario, since hints and results are kept by id.
	checkIDs map[string]string
}

func (v *scenarioValidator) scenario(sc *Scenario) {
	v.metadata(sc.Metadata)
	s := &sc.Spec
	if strings.TrimSpace(s.Summary) == "" {
		v.src.Addf("spec.summary", "is required: a sentence or two on what the trainee will learn")
	}
	validateOneOf(v.src, "spec.level", s.Level, LevelBeginner, LevelIntermediate, LevelAdvanced)
	if !v.src.Has("spec.duration") {
		v.src.Addf("spec.duration", "is required: how long a newcomer takes, such as 30m")
	} else {
		validatePositive(v.src, "spec.duration", s.Duration, MaxScenarioDuration)
	}
	validateStacks(v.src, "spec.stacks", s.Stacks, v.env.Stacks)
	for i, f := range s.Files {
		v.path(indexPath("spec.files", i), f, true)
	}
	for i, img := range s.Images {
		validateImage(v.src, indexPath("spec.images", i), img)
	}
	v.actions("spec.setup", s.Setup)
	v.steps(s.Steps)
	v.actions("spec.cleanup", s.Cleanup)
}

func (v *scenarioValidator) metadata(m ScenarioMetadata) {
	validateName(v.src, "metadata.name", m.Name)
	if v.env.Folder != "" && m.Name != "" && m.Name != v.env.Folder {
		v.src.Addf("metadata.name", "must be the name of the scenario's folder %q, got %q", v.env.Folder, m.Name)
	}
	if strings.TrimSpace(m.Title) == "" {
		v.src.Addf("metadata.title", "is required: the title lists show")
	}
}

func (v *scenarioValidator) steps(steps []Step) {
	switch {
	case len(steps) == 0:
		v.src.Addf("spec.steps", "needs at least one step")
	case len(steps) > MaxScenarioSteps:
		v.src.Addf("spec.steps", "has %d steps, more than %d: split the scenario", len(steps), MaxScenarioSteps)
	}
	for i := range steps {
		v.step(indexPath("spec.steps", i), &steps[i])
	}
}

func (v *scenarioValidator) step(p string, st *Step) {
	if strings.TrimSpace(st.Title) == "" {
		v.src.Addf(p+".title", "is required: a short imperative, such as \"Scale it to three\"")
	}
	if st.Text == "" {
		v.src.Addf(p+".text", "is required: a markdown file of the scenario with the step's instructions")
	} else {
		v.markdown(p+".text", st.Text)
	}
	if st.Solution != "" {
		v.markdown(p+".solution", st.Solution)
	}
	v.checks(p+".checks", st.Checks)
	if st.Round != nil {
		v.round(p+".round", st.Round)
	}
	if len(st.Solve) == 0 && !v.src.relatesToFailure(p+".solve") {
		v.src.Addf(p+".solve", "needs at least one action: `lab scenario solve` and `lab scenario test` use it")
	}
	v.actions(p+".solve", st.Solve)
}

// checks validates a step's checks as a checks file's, and more: each check must say
// what it is worth, and a check without a namespace looks in the scenario's.
func (v *scenarioValidator) checks(p string, checks []Check) {
	rejectExplicitZeros(v.src, p, checks)
	for i := range checks {
		c := &checks[i]
		checkPath := indexPath(p, i)
		if !v.src.Has(checkPath+".points") && !v.src.relatesToFailure(checkPath) {
			v.src.Addf(checkPath+".points", "is required in a scenario: the points passing check %s is worth (1 to %d)", describeID(c.ID), MaxCheckPoints)
		}
		v.defaultCheckNamespace(c)
		c.Default()
		if c.ID == "" {
			continue
		}
		if first, dup := v.checkIDs[c.ID]; dup {
			v.src.Addf(checkPath+".id", "duplicate id %q (already at %s): check ids are unique in a scenario", c.ID, first)
			continue
		}
		v.checkIDs[c.ID] = checkPath
	}
	validateChecks(v.src, p, checks)
}

func (v *scenarioValidator) defaultCheckNamespace(c *Check) {
	if c.Resource != nil && c.Resource.Namespace == "" {
		c.Resource.Namespace = v.namespace
	}
	if c.HTTP != nil && c.HTTP.Namespace == "" {
		c.HTTP.Namespace = v.namespace
	}
	if c.Rollout != nil && c.Rollout.Namespace == "" {
		c.Rollout.Namespace = v.namespace
	}
}

func (v *scenarioValidator) round(p string, r *Round) {
	if len(r.Faults) == 0 {
		v.src.Addf(p+".faults", "needs at least one fault: the chaos the steady state must survive")
	}
	for i := range r.Faults {
		fp := indexPath(p+".faults", i)
		v.fault(fp, &r.Faults[i])
		if v.src.Has(fp + ".duration") {
			v.src.Addf(fp+".duration", "a round's faults last the whole round (%s.duration); leave it out", p)
		}
	}
	validatePositive(v.src, p+".duration", r.Duration, MaxRoundDuration)
}

// actions validates a list of actions (setup, a solution or cleanup).
func (v *scenarioValidator) actions(p string, actions []Action) {
	for i := range actions {
		v.action(indexPath(p, i), &actions[i])
	}
}

func (v *scenarioValidator) action(p string, a *Action) {
	set := a.kinds()
	if len(set) != 1 {
		what := "none"
		if len(set) > 1 {
			what = strings.Join(set, " and ")
		}
		v.src.Addf(p, "an action needs exactly one of apply, delete, helm, fault, http, rollout; it has %s", what)
		return
	}
	if a.Wait != nil && a.Apply == "" {
		v.src.Addf(p+".wait", "is only for apply; leave it out")
	}
	switch {
	case a.Apply != "":
		v.apply(p+".apply", a.Apply)
	case a.Delete != nil:
		v.objectRef(p+".delete", a.Delete)
	case a.Helm != nil:
		v.helm(p+".helm", a.Helm)
	case a.Fault != nil:
		v.fault(p+".fault", a.Fault)
		if a.Fault.Duration > MaxRoundDuration {
			v.src.Addf(p+".fault.duration", "must be at most %s, got %s", MaxRoundDuration, a.Fault.Duration)
		}
	case a.HTTP != nil:
		v.httpAction(p+".http", a.HTTP)
	case a.Rollout != nil:
		v.rolloutAction(p+".rollout", a.Rollout)
	}
}

func (v *scenarioValidator) rolloutAction(p string, r *RolloutAction) {
	if r.Namespace == "" {
		r.Namespace = v.namespace
	}
	if !dnsLabel.MatchString(r.Name) {
		v.src.Addf(p+".name", "must be the Rollout's name: lowercase letters, digits and '-', got %q", r.Name)
	}
	validateOneOf(v.src, p+".action", r.Action, RolloutActions...)
	switch {
	case v.src.Has(p+".timeout") && (r.Timeout <= 0 || r.Timeout > MaxCheckTimeout):
		v.src.Addf(p+".timeout", "must be a positive duration up to %s, got %s", MaxCheckTimeout, r.Timeout)
	case r.Timeout == 0:
		r.Timeout = DefaultRolloutWait
	}
}

func (a *Action) kinds() []string {
	var set []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"apply", a.Apply != ""}, {"delete", a.Delete != nil}, {"helm", a.Helm != nil}, {"fault", a.Fault != nil}, {"http", a.HTTP != nil}, {"rollout", a.Rollout != nil}} {
		if k.set {
			set = append(set, k.name)
		}
	}
	return set
}

func (v *scenarioValidator) objectRef(p string, r *ObjectRef) {
	if r.APIVersion == "" {
		v.src.Addf(p+".apiVersion", "is required, such as v1 or apps/v1")
	} else if !apiVersionPattern.MatchString(r.APIVersion) {
		v.src.Addf(p+".apiVersion", "must look like v1 or apps/v1, got %q", r.APIVersion)
	}
	if !kindPattern.MatchString(r.Kind) {
		v.src.Addf(p+".kind", "is required: a kind such as ConfigMap, got %q", r.Kind)
	}
	if r.Name == "" {
		v.src.Addf(p+".name", "is required")
	}
	if r.Namespace == "" {
		r.Namespace = v.namespace
	}
}

func (v *scenarioValidator) helm(p string, h *HelmAction) {
	if h.Namespace == "" {
		h.Namespace = v.namespace
	}
	if !validateOneOf(v.src, p+".action", h.Action, HelmInstall, HelmUpgrade, HelmRollback, HelmUninstall) {
		return
	}
	if !dnsLabel.MatchString(h.Release) || len(h.Release) > 53 {
		v.src.Addf(p+".release", "must be a release name: lowercase letters, digits and '-', at most 53 characters, got %q", h.Release)
	}
	switch h.Action {
	case HelmInstall, HelmUpgrade:
		v.helmChart(p, h)
	default:
		for _, f := range []struct {
			name string
			set  bool
		}{{"chart", h.Chart != ""}, {"bundledChart", h.BundledChart != ""}, {"values", h.Values != nil}} {
			if f.set {
				v.src.Addf(p+"."+f.name, "is not used by helm %s; leave it out", h.Action)
			}
		}
	}
	if h.Revision < 0 || (h.Revision != 0 && h.Action != HelmRollback) {
		v.src.Addf(p+".revision", "is the revision a rollback goes back to (a positive number, or leave it out for the previous one); got %d for %s", h.Revision, h.Action)
	}
}

func (v *scenarioValidator) helmChart(p string, h *HelmAction) {
	switch {
	case h.Chart == "" && h.BundledChart == "":
		v.src.Addf(p+".chart", "is required for helm %s: a chart folder of the scenario (or bundledChart: one of lab's charts)", h.Action)
	case h.Chart != "" && h.BundledChart != "":
		v.src.Addf(p+".bundledChart", "give chart or bundledChart, not both")
	case h.Chart != "":
		if v.path(p+".chart", h.Chart, true) && v.env.CheckChart != nil {
			if err := v.env.CheckChart(v.env.Files, cleanPath(h.Chart)); err != nil {
				v.src.Addf(p+".chart", "%s is not a chart Helm can load: %v", h.Chart, err)
			}
		}
	case v.env.BundledCharts != nil:
		validateOneOf(v.src, p+".bundledChart", h.BundledChart, v.env.BundledCharts...)
	}
}

func (v *scenarioValidator) fault(p string, f *Fault) {
	if f.Namespace == "" {
		f.Namespace = v.namespace
	}
	f.Given = writtenParams(v.src, p)
	if v.env.Faults != nil && !validateOneOf(v.src, p+".type", f.Type, v.env.Faults...) {
		return
	}
	if f.Duration < 0 {
		v.src.Addf(p+".duration", "must not be negative, got %s", f.Duration)
	}
	if v.env.CheckFault == nil {
		return
	}
	for param, msg := range v.env.CheckFault(*f) {
		field := p
		if param != "" {
			field += "." + param
		}
		v.src.Addf(field, "%s", msg)
	}
}

func (v *scenarioValidator) httpAction(p string, h *HTTPAction) {
	if h.Namespace == "" {
		h.Namespace = v.namespace
	}
	if h.Service == "" {
		v.src.Addf(p+".service", "is required: the Service to send the request to")
	}
	if h.Path == "" {
		h.Path = "/"
	} else if !strings.HasPrefix(h.Path, "/") {
		v.src.Addf(p+".path", "must start with /, got %q", h.Path)
	}
	if h.Method == "" {
		h.Method = "POST"
	}
	validateOneOf(v.src, p+".method", h.Method, "POST", "PUT")
	if h.Delay < 0 || h.Delay > MaxRoundDuration {
		v.src.Addf(p+".delay", "must be between 0s and %s, got %s", MaxRoundDuration, h.Delay)
	}
}

// markdown checks a step's markdown file: it exists and names only known placeholders.
func (v *scenarioValidator) markdown(p, file string) {
	if !v.path(p, file, false) || v.env.Files == nil {
		return
	}
	data, err := fs.ReadFile(v.env.Files, cleanPath(file))
	if err != nil {
		return // path already reported it
	}
	for _, name := range UnknownPlaceholders(string(data)) {
		v.src.Addf(p, "%s uses the unknown placeholder {{%s}}; known: %s", file, name, strings.Join(Placeholders, ", "))
	}
}

// apply checks a manifest file or folder: it exists and every document is an object.
func (v *scenarioValidator) apply(p, file string) {
	if !v.path(p, file, true) || v.env.Files == nil {
		return
	}
	files, err := ManifestFiles(v.env.Files, cleanPath(file))
	if err != nil {
		v.src.Addf(p, "%v", err)
		return
	}
	if len(files) == 0 {
		v.src.Addf(p, "folder %s has no .yaml or .yml file to apply", file)
	}
	for _, f := range files {
		data, err := fs.ReadFile(v.env.Files, f)
		if err == nil {
			_, err = ParseManifests(f, data)
		}
		if err != nil {
			v.src.Addf(p, "%v", err)
		}
	}
}

// path checks that a path of the scenario's folder exists and that no symbolic link on
// the way, or inside it when it is a folder, leads out of the folder; dirOK allows
// folders. It reports whether the path is usable.
func (v *scenarioValidator) path(p, file string, dirOK bool) bool {
	clean := cleanPath(file)
	if clean == "" {
		v.src.Addf(p, "must be a path inside the scenario's folder, got %q", file)
		return false
	}
	if v.env.Files == nil {
		return true
	}
	if msg := linkProblem(v.env.Files, clean); msg != "" {
		v.src.Addf(p, "%s", msg)
		return false
	}
	info, err := fs.Stat(v.env.Files, clean)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.src.Addf(p, "%s does not exist in the scenario's folder", file)
		return false
	case err != nil:
		v.src.Addf(p, "cannot read %s: %v", file, err)
		return false
	case info.IsDir() && !dirOK:
		v.src.Addf(p, "%s is a folder; name a file", file)
		return false
	}
	return true
}

// cleanPath is a relative path inside the scenario's folder in fs.FS form, or "" for
// one that leaves the folder or is absolute.
func cleanPath(file string) string {
	clean := path.Clean(strings.TrimSuffix(file, "/"))
	if file == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || !fs.ValidPath(clean) {
		return ""
	}
	return clean
}

// CleanScenarioPath is cleanPath for the scenario engine, which reads the same files.
func CleanScenarioPath(file string) string { return cleanPath(file) }
