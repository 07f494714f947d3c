// Package stack installs a lab's stacks: Helm releases of bundled or pinned upstream
// charts, in dependency order (independent stacks concurrently), then waits until they
// work and, when they do not, says why. It is the only package that imports Helm.
//
// A Catalog describes what can be installed; an Installer acts on one cluster. The
// catalog is a value so tests install small charts of their own; Default is the catalog
// of the lab binary.
package stack

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Profiles a stack is sized for.
const (
	ProfileLite = "lite"
	ProfileFull = "full"
)

// DefaultTimeout bounds how long a stack gets to become ready after its install.
const DefaultTimeout = 5 * time.Minute

// Catalog is the set of stacks lab can install.
type Catalog struct {
	Stacks []Stack
	// Bundled loads a chart built into the binary by name.
	Bundled func(name string) (*chart.Chart, error)
	// overrides are a lab's own values per stack (WithValues).
	overrides map[string]map[string]any
}

// WithValues returns a copy of the catalog that merges a lab's values for each named
// stack over the profile's values of every chart of that stack (spec.values).
func (c *Catalog) WithValues(overrides map[string]map[string]any) *Catalog {
	if len(overrides) == 0 {
		return c
	}
	out := *c
	out.overrides = overrides
	return &out
}

// valuesOf computes a chart's values: the profile's, then the lab's overrides for the
// stack, checked against the chart's values schema so a typo is bad input, not a
// failed install.
func (c *Catalog) valuesOf(s Stack, ch Chart, l *chart.Chart, profile string) (map[string]any, error) {
	vals, err := ch.valuesFor(profile)
	if err != nil {
		return nil, err
	}
	over, ok := c.overrides[s.Name]
	if !ok {
		return vals, nil
	}
	// Copies: merging must change neither the lab's spec nor a profile's cached map.
	overCopy, err := copyValues(over)
	if err != nil {
		return nil, err
	}
	valsCopy, err := copyValues(vals)
	if err != nil {
		return nil, err
	}
	merged := chartutil.MergeTables(overCopy, valsCopy)
	withDefaults, err := chartutil.CoalesceValues(l, merged)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ValidateAgainstSchema(l, withDefaults); err != nil {
		return nil, errs.Invalidf("fix the values of stack "+s.Name+" in the lab file, or remove them",
			"spec.values.%s: not accepted by chart %s: %s", s.Name, ch.Name, strings.TrimSpace(err.Error()))
	}
	return merged, nil
}

// Stack is one installable tool set: one or more charts in one namespace.
type Stack struct {
	Name        string
	Description string
	Namespace   string
	// DependsOn names stacks that must be ready before this one is installed.
	DependsOn []string
	// After names stacks installed before this one when they are installed with it:
	// an order, not a need (demo-shop goes after delivery, whose CRDs its Rollout mode
	// uses, but needs no delivery stack otherwise). A failure there does not block it.
	After []string
	// Charts are installed in order, each as its own release.
	Charts []Chart
	// Timeout bounds the wait for readiness (DefaultTimeout when zero).
	Timeout time.Duration
	// Outcome is the stack's proof that it works beyond its pods being Ready (for
	// monitoring, Prometheus answering a query); nil when pods being ready is enough.
	Outcome *Outcome
	// Services are what `lab open` can reach.
	Services []Service
	// ChaosTarget marks a practice workload that `lab chaos` may break; the namespaces of
	// the other stacks (monitoring) are protected from chaos.
	ChaosTarget bool
}

// Chart is one release of a stack. Bundled charts come from the binary; upstream ones
// from a chart repository (https) or an OCI registry, pinned by version and digest.
type Chart struct {
	// Name is the chart's name (in the repository, or of the bundled chart).
	Name string
	// Release names the release; the stack's name when empty.
	Release string
	// Repo is an https chart repository URL or an oci:// reference of the chart
	// (without tag); empty for a bundled chart.
	Repo string
	// Version pins an upstream chart's version.
	Version string
	// Digest is the sha256 of an upstream chart's .tgz, hex ("sha256:" prefix allowed).
	Digest string
	// Values gives the values for a profile, merged over the chart's defaults.
	Values func(profile string) (map[string]any, error)
}

// Service is a stack's endpoint that `lab open` forwards to.
type Service struct {
	// Name is what the user types (`lab open grafana`).
	Name string
	// Service and Port are the Kubernetes Service in the stack's namespace.
	Service string
	Port    int
	// Path is appended to the printed URL.
	Path string
	// Login is where the service's generated admin credentials are (`lab creds`).
	Login *Login
}

// Login names the Secret, in the stack's namespace, holding a service's credentials.
type Login struct {
	Secret      string
	UserKey     string
	PasswordKey string
}

// Bundled reports whether the chart is built into the binary.
func (c Chart) Bundled() bool { return c.Repo == "" }

// OCI reports whether the chart comes from an OCI registry.
func (c Chart) OCI() bool { return strings.HasPrefix(c.Repo, "oci://") }

// releaseName is the release's name within the stack: the stack's name for its first
// chart unless named otherwise.
func (c Chart) releaseName(s Stack) string {
	if c.Release != "" {
		return c.Release
	}
	return s.Name
}

func (c Chart) valuesFor(profile string) (map[string]any, error) {
	if c.Values == nil {
		return map[string]any{}, nil
	}
	v, err := c.Values(profile)
	if err != nil {
		return nil, fmt.Errorf("values of chart %s for profile %s: %w", c.Name, profile, err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return v, nil
}

// ProfileValues is a Values function over a fixed map, for catalogs written in Go.
func ProfileValues(byProfile map[string]map[string]any) func(string) (map[string]any, error) {
	return func(profile string) (map[string]any, error) {
		v, ok := byProfile[profile]
		if !ok {
			return nil, fmt.Errorf("no values for profile %q", profile)
		}
		return v, nil
	}
}

func (s Stack) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// Names lists the catalog's stacks, sorted.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.Stacks))
	for _, s := range c.Stacks {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

// Get finds a stack by name.
func (c *Catalog) Get(name string) (Stack, bool) {
	for _, s := range c.Stacks {
		if s.Name == name {
			return s, true
		}
	}
	return Stack{}, false
}

// Validate checks that every name is a stack of the catalog and that profile is one lab
// knows, naming every unknown stack at once. where says where the names came from (a
// lab file, the command line), for the message.
func (c *Catalog) Validate(names []string, profile, where string) error {
	var unknown []string
	for _, n := range names {
		if _, ok := c.Get(n); !ok {
			unknown = append(unknown, fmt.Sprintf("%q", n))
		}
	}
	if len(unknown) > 0 {
		noun := "stack"
		if len(unknown) > 1 {
			noun = "stacks"
		}
		return errs.Invalidf("the catalog has: "+strings.Join(c.Names(), ", ")+" (see `lab stacks list`)",
			"%s: unknown %s %s", where, noun, strings.Join(unknown, ", "))
	}
	if profile != "" && profile != ProfileLite && profile != ProfileFull {
		return errs.Invalidf("use lite or full", "%s: unknown profile %q", where, profile)
	}
	return nil
}

// Resolve returns the stacks named and, before them, every stack they depend on,
// dependencies first, and a named stack's After stacks before it when they are named
// too. A dependency cycle or an unknown dependency is a catalog bug.
func (c *Catalog) Resolve(names []string) ([]Stack, error) {
	var out []Stack
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("stack catalog: dependency cycle %s", strings.Join(append(path, name), " -> "))
		}
		s, ok := c.Get(name)
		if !ok {
			if len(path) > 0 {
				return fmt.Errorf("stack catalog: %s depends on unknown stack %q", path[len(path)-1], name)
			}
			return c.Validate([]string{name}, "", "stacks")
		}
		state[name] = 1
		for _, d := range s.DependsOn {
			if err := visit(d, append(slices.Clone(path), name)); err != nil {
				return err
			}
		}
		for _, a := range s.After {
			if !slices.Contains(names, a) {
				continue
			}
			if err := visit(a, append(slices.Clone(path), name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, s)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ServiceNames lists what `lab open` can open, sorted.
func (c *Catalog) ServiceNames() []string {
	var names []string
	for _, s := range c.Stacks {
		for _, svc := range s.Services {
			names = append(names, svc.Name)
		}
	}
	sort.Strings(names)
	return names
}

// FindService finds the stack and service that `lab open name` means.
func (c *Catalog) FindService(name string) (Stack, Service, error) {
	return c.findService(name, func(Service) bool { return true }, "nothing to open named %q")
}

// FindLogin finds the stack and service that `lab creds name` means.
func (c *Catalog) FindLogin(name string) (Stack, Service, error) {
	return c.findService(name, func(s Service) bool { return s.Login != nil }, "no credentials named %q")
}

// LoginNames lists the services with credentials, sorted.
func (c *Catalog) LoginNames() []string {
	var names []string
	for _, s := range c.Stacks {
		for _, svc := range s.Services {
			if svc.Login != nil {
				names = append(names, svc.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

func (c *Catalog) findService(name string, ok func(Service) bool, notFound string) (Stack, Service, error) {
	var names []string
	for _, s := range c.Stacks {
		for _, svc := range s.Services {
			if !ok(svc) {
				continue
			}
			if svc.Name == name {
				return s, svc, nil
			}
			names = append(names, svc.Name)
		}
	}
	sort.Strings(names)
	return Stack{}, Service{}, errs.Invalidf("use one of: "+strings.Join(names, ", "), notFound, name)
}

// ChartsFromDir loads bundled charts from a directory of chart directories instead of
// the binary: for tests, and for trying a chart under development.
func ChartsFromDir(dir string) func(name string) (*chart.Chart, error) {
	return func(name string) (*chart.Chart, error) { return loader.Load(filepath.Join(dir, name)) }
}
