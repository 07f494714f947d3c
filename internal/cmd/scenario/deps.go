package scenario

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/charts"
	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// Common are the flags every scenario command shares.
type Common struct {
	// Name is the lab (--name).
	Name string
	// Dir is a folder of scenarios an instructor wrote (--dir).
	Dir string
}

func (c *Common) addFlags(f *cmdutil.Factory, cmd *cobra.Command, withDir bool) {
	f.AddNameFlag(cmd, &c.Name)
	if withDir {
		cmd.Flags().StringVar(&c.Dir, "dir", "", "load scenarios from this folder (a scenario's folder, or a folder of them) instead of the built-in ones")
		cmd.MarkFlagDirname("dir")
	}
}

// Validation is what scenario files are checked against: lab's stack catalog, bundled
// charts and chaos faults.
func Validation() scenario.Validation {
	return scenario.Validation{
		Stacks:        stack.Default().Names(),
		BundledCharts: charts.Names(),
		Faults:        chaos.FaultNames(),
		CheckChart: func(files fs.FS, dir string) error {
			_, err := stack.LoadChartFS(files, dir)
			return err
		},
		CheckFault: checkFault,
	}
}

// checkFault validates a scenario fault's parameters as `lab chaos run` would.
func checkFault(f spec.Fault) map[string]string {
	fault, err := chaos.Lookup(f.Type)
	if err != nil {
		return map[string]string{"type": err.Error()}
	}
	problems := map[string]string{}
	for _, p := range fault.Validate(chaosParams(fault, f)) {
		problems[p.Param] = p.Message
	}
	return problems
}

// chaosParams are a scenario fault's parameters for the chaos engine. The namespace
// defaults to the scenario's, so it counts as given for faults that read one.
func chaosParams(fault chaos.Fault, f spec.Fault) chaos.Params {
	given := slices.Clone(f.Given)
	if slices.Contains(fault.Params(), "namespace") && !slices.Contains(given, "namespace") {
		given = append(given, "namespace")
	}
	return chaos.Params{FaultParams: f.FaultParams, Given: given}
}

// loader reads the built-in scenarios or a folder's.
func loader(source string) (*scenario.Catalog, error) {
	if source == "" || source == scenario.SourceEmbedded {
		return scenario.Embedded(Validation())
	}
	return scenario.FromDir(source, Validation())
}

// sourceOf is the scenario source a --dir names.
func sourceOf(dir string) (string, error) {
	if dir == "" {
		return scenario.SourceEmbedded, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "", "")
	}
	return abs, nil
}

// EngineFor is the factory's ScenarioEngine: the scenario engine of a running lab,
// with lab's built-in scenarios, for commands other than lab scenario (lab class).
func EngineFor(f *cmdutil.Factory) func(ctx context.Context, labName string, sink event.Sink) (*scenario.Engine, error) {
	return func(ctx context.Context, labName string, sink event.Sink) (*scenario.Engine, error) {
		return newEngine(ctx, f, &Common{Name: labName}, sink, true)
	}
}

// newEngine builds the scenario engine for the lab of --name; progress goes to sink.
// needLab false lets commands that only read scenarios work without a lab.
func newEngine(ctx context.Context, f *cmdutil.Factory, c *Common, sink event.Sink, needLab bool) (*scenario.Engine, error) {
	source, err := sourceOf(c.Dir)
	if err != nil {
		return nil, err
	}
	e := &scenario.Engine{Load: loader, Source: source, Events: event.NewEmitter(sink)}
	m := f.Manager(sink)
	name := c.Name
	if name == "" {
		name = cmdutil.DefaultLabName(ctx, m)
	}
	l, chaosLab, err := resolveLab(ctx, m, name)
	if err != nil {
		if !needLab {
			return e, nil
		}
		// A broken scenario folder is reported before a missing lab: an author fixes
		// files first.
		if _, loadErr := e.Catalog(); loadErr != nil {
			return nil, loadErr
		}
		return nil, err
	}
	e.Lab = l
	e.Stacks = labStacks{m: m, name: name}
	e.Faults = faultRunner{engine: &chaos.Engine{Events: event.NewEmitter(sink)}, lab: chaosLab}
	return e, nil
}

// resolveLab reads what the scenario and chaos engines need of a running lab.
func resolveLab(ctx context.Context, m *lab.Manager, name string) (*scenario.Lab, *chaos.Lab, error) {
	r, err := m.Resolve(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if r.State != cluster.Running {
		return nil, nil, errs.New(errs.Unavailable, fmt.Sprintf("lab %q is not running (%s)", name, r.State), "start it with `lab up --name "+name+"`")
	}
	if r.KubeconfigErr != nil {
		return nil, nil, r.KubeconfigErr
	}
	l := &scenario.Lab{Name: name, Context: r.Context, Kubeconfig: r.AdminKubeconfig, Simulated: r.Status.Simulated, Dir: r.Dir}
	return l, cmdutil.ChaosLab(r), nil
}

// labStacks installs the stacks a scenario needs that the lab does not have yet.
type labStacks struct {
	m    *lab.Manager
	name string
}

func (s labStacks) EnsureStacks(ctx context.Context, stacks []string) error {
	st, err := s.m.Status(ctx, s.name)
	if err != nil {
		return err
	}
	var missing []string
	for _, want := range stacks {
		if !slices.ContainsFunc(st.Releases, func(r stack.Release) bool { return r.Stack == want }) {
			missing = append(missing, want)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = s.m.AddStacks(ctx, s.name, missing, lab.StackOptions{})
	return err
}

// faultRunner runs scenario faults through the chaos engine: guard rails, journal,
// revert. A scenario's namespace is its own, so a fault may take all of its pods.
type faultRunner struct {
	engine *chaos.Engine
	lab    *chaos.Lab
}

func (r faultRunner) RunFault(ctx context.Context, f spec.Fault, source string) (string, error) {
	fault, err := chaos.Lookup(f.Type)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "", "")
	}
	limits := chaos.Limits{MaxPods: chaos.DefaultLimits.MaxPods, MaxPercent: 100}
	res, err := r.engine.Run(ctx, r.lab, chaos.RunOptions{
		Fault: f.Type, Params: chaosParams(fault, f), Limits: limits, Duration: f.Duration, Source: source,
	})
	if err != nil {
		return "", err
	}
	if res.Plan != nil {
		return f.Type + ": " + res.Plan.Summary, nil
	}
	return f.Type, nil
}
