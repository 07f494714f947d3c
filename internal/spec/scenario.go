package spec

import "time"

// KindScenario is the kind of a scenario file: a guided exercise with graded steps.
const KindScenario = "Scenario"

// ScenarioFile is the name of the file that defines a scenario, in the scenario's folder
// (scenarios/<name>/scenario.yaml); every path it names is relative to that folder.
const ScenarioFile = "scenario.yaml"

// ScenarioNamespacePrefix starts the namespace each scenario runs in: sc-<name>.
const ScenarioNamespacePrefix = "sc-"

// Scenario levels, from a first day with Kubernetes to an on-call engineer's.
const (
	LevelBeginner     = "beginner"
	LevelIntermediate = "intermediate"
	LevelAdvanced     = "advanced"
)

// Limits of a scenario.
const (
	MaxScenarioSteps    = 30
	MaxScenarioDuration = 8 * time.Hour
	// MaxRoundDuration bounds a gameday round: the checks of the step run while its
	// faults are active, and a trainee waits for it at each `lab scenario check`.
	MaxRoundDuration = 10 * time.Minute
)

// Helm verbs a scenario action may run (with the Helm SDK: no helm binary needed).
const (
	HelmInstall   = "install"
	HelmUpgrade   = "upgrade"
	HelmRollback  = "rollback"
	HelmUninstall = "uninstall"
)

// Scenario is what a trainee does with a lab, and what an instructor teaches with: a
// setup, ordered steps whose checks are graded, hints, a solution for each step, and a
// cleanup. `lab scenario test` proves that each step's checks fail before its solution
// and pass after it.
type Scenario struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   ScenarioMetadata `json:"metadata"`
	Spec       ScenarioSpec     `json:"spec"`
}

// ScenarioMetadata names a scenario and gives the title lists show.
type ScenarioMetadata struct {
	Name  string `json:"name"`
	Title string `json:"title"`
}

// ScenarioSpec is what a scenario holds.
type ScenarioSpec struct {
	// Summary is one or two sentences: what the trainee will learn.
	Summary string `json:"summary"`
	Level   string `json:"level"`
	// Duration is how long a newcomer takes, roughly.
	Duration time.Duration `json:"duration"`
	// Stacks are catalog stacks the scenario needs; `lab scenario start` installs the
	// missing ones.
	Stacks []string `json:"stacks,omitempty"`
	// Files are files or folders of the scenario the trainee works with (a chart to
	// install with helm): `lab scenario start` copies them to a folder of the lab's,
	// which step texts name as {{files}}.
	Files []string `json:"files,omitempty"`
	// Images are the container images the scenario's manifests, charts and steps run:
	// `lab pull --bundle` carries them, so the scenario runs in an offline lab too.
	Images []string `json:"images,omitempty"`
	// Setup runs in order when the scenario starts and when it is reset.
	Setup []Action `json:"setup,omitempty"`
	Steps []Step   `json:"steps"`
	// Cleanup undoes what setup or the steps did outside the scenario's namespace
	// (which is deleted anyway) when the scenario is reset or stopped.
	Cleanup []Action `json:"cleanup,omitempty"`
}

// Step is one task: instructions, the checks that grade it, and its solution.
type Step struct {
	Title string `json:"title"`
	// Text is a markdown file of the scenario: what to do, why, and how to see it.
	Text string `json:"text"`
	// Solution is an optional markdown file explaining the solution, for instructors
	// and for `lab scenario solve`.
	Solution string `json:"solution,omitempty"`
	// Checks grade the step; each must give its points.
	Checks []Check `json:"checks"`
	// Round, when set, makes grading a gameday round: the faults are injected and the
	// checks, the steady state, are evaluated while they are active.
	Round *Round `json:"round,omitempty"`
	// Solve are the actions that do the step, for `lab scenario solve` and self-tests.
	Solve []Action `json:"solve"`
}

// Round is a gameday round: faults that run while a step's checks are evaluated.
type Round struct {
	Faults []Fault `json:"faults"`
	// Duration is how long the faults last; the checks must settle within it.
	Duration time.Duration `json:"duration"`
}

// Action is one thing setup, a solution or cleanup does. Exactly one of apply, delete,
// helm, fault and http is set.
type Action struct {
	// Apply is a manifest file or a folder of them (*.yaml, *.yml), applied with
	// server-side apply. Objects without a namespace go to the scenario's namespace.
	Apply string `json:"apply,omitempty"`
	// Wait, with apply, says whether the action waits until the Deployments,
	// StatefulSets and DaemonSets it applied have rolled out (default true), so that the
	// next action finds their pods running. false is for a workload broken on purpose.
	Wait *bool `json:"wait,omitempty"`
	// Delete removes one object; one that does not exist is fine.
	Delete *ObjectRef `json:"delete,omitempty"`
	// Helm installs, upgrades, rolls back or uninstalls a release with the Helm SDK.
	Helm *HelmAction `json:"helm,omitempty"`
	// Fault runs a chaos fault for its duration, then reverts it.
	Fault *Fault `json:"fault,omitempty"`
	// HTTP sends a request to a Service through the API server's service proxy (such
	// as Prometheus's POST /-/reload). Simulated labs skip it: no container answers.
	HTTP *HTTPAction `json:"http,omitempty"`
	// Rollout answers an Argo Rollouts rollout's manual judgment (promote, abort, retry)
	// as `lab delivery` does. Simulated labs skip it: no controller moves the rollout.
	Rollout *RolloutAction `json:"rollout,omitempty"`
}

// WaitsForRollout says whether an apply action waits for its workloads' rollout.
func (a *Action) WaitsForRollout() bool { return a.Apply != "" && (a.Wait == nil || *a.Wait) }

// ObjectRef names one Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Namespace defaults to the scenario's for namespaced kinds.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// HelmAction is a Helm operation on a release in the scenario's namespace.
type HelmAction struct {
	Action  string `json:"action"`
	Release string `json:"release"`
	// Namespace defaults to the scenario's.
	Namespace string `json:"namespace,omitempty"`
	// Chart is a chart folder of the scenario (install, upgrade).
	Chart string `json:"chart,omitempty"`
	// BundledChart is one of lab's bundled charts (charts/), instead of Chart.
	BundledChart string         `json:"bundledChart,omitempty"`
	Values       map[string]any `json:"values,omitempty"`
	// Revision is the revision a rollback goes back to; 0 means the previous one.
	Revision int `json:"revision,omitempty"`
}

// Fault is a chaos fault with its parameters, written as a gameday's timeline entries
// are: the fault's name in type, its parameters beside it.
type Fault struct {
	Type string `json:"type"`
	FaultParams
	// Duration is how long the fault lasts (a single pod-kill is over at once).
	Duration time.Duration `json:"duration,omitempty"`
	// Given names the parameters written in the file, camelCase, for the chaos engine
	// (which refuses parameters a fault does not read).
	Given []string `json:"-"`
}

// RolloutAction promotes, aborts or retries a rollout. promote first waits, up to
// Timeout, for the rollout to pause (a pause step, blue/green's preview, an
// inconclusive analysis), as the person judging would.
type RolloutAction struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Action is promote, promote-full, abort, retry or wait-healthy.
	Action  string        `json:"action"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

// RolloutActions are the actions a rollout action takes: the judgments as `lab
// delivery` names them, and RolloutWaitHealthy.
var RolloutActions = []string{"promote", "promote-full", "abort", "retry", RolloutWaitHealthy}

// RolloutWaitHealthy waits, up to the timeout, for the rollout to be Healthy, as a
// person would before shipping the next version: one shipped earlier is rolled out at
// once as an "initial deploy", with no step or pause to judge.
const RolloutWaitHealthy = "wait-healthy"

// DefaultRolloutWait bounds a promote's wait for the rollout to pause.
const DefaultRolloutWait = 3 * time.Minute

// HTTPAction is a request through the API server's service proxy.
type HTTPAction struct {
	Namespace string `json:"namespace,omitempty"`
	Service   string `json:"service"`
	Port      string `json:"port,omitempty"`
	Path      string `json:"path,omitempty"`
	// Method is POST (default) or PUT: GETs are what checks are for.
	Method string `json:"method,omitempty"`
	// Delay is waited first: a ConfigMap mounted in a pod takes up to a minute to
	// change there, and a reload before that reads the old file.
	Delay time.Duration `json:"delay,omitempty"`
}

// Namespace is the namespace the scenario runs in.
func (s *Scenario) Namespace() string { return ScenarioNamespacePrefix + s.Metadata.Name }

// Points is the total of every step's checks' points.
func (s *Scenario) Points() int {
	total := 0
	for _, st := range s.Spec.Steps {
		total += st.Points()
	}
	return total
}

// Points is the total of the step's checks' points.
func (st *Step) Points() int {
	total := 0
	for _, c := range st.Checks {
		total += c.Points
	}
	return total
}

// Needs lists the check types the scenario uses, each once, in order of appearance.
func (s *Scenario) Needs() []string {
	var types []string
	seen := map[string]bool{}
	for _, st := range s.Spec.Steps {
		for i := range st.Checks {
			if t := st.Checks[i].Type(); !seen[t] {
				seen[t] = true
				types = append(types, t)
			}
		}
	}
	return types
}
