package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/state"
)

// Manager runs lab lifecycles. Its fields are its dependencies, so tests can swap them.
type Manager struct {
	// StateDir holds records, lab kubeconfigs and provider work dirs.
	StateDir string
	// Providers by name: kind, sim, existing.
	Providers map[string]cluster.Provider
	// DockerReachable decides what the auto provider picks.
	DockerReachable func(context.Context) error
	// UserKubeconfig is the kubeconfig lab merges contexts into and adopts them from.
	UserKubeconfig string
	// LockWait is how long a second lab process waits for the lock on the same lab.
	LockWait time.Duration
	// NodeTimeout bounds the wait for nodes to be Ready.
	NodeTimeout time.Duration
	// Catalog is the stacks lab can install (stack.Default() in the binary); nil
	// refuses any lab that lists stacks.
	Catalog *stack.Catalog
	// CacheDir keeps upstream charts (state.CacheHome()).
	CacheDir string
	// StackTimeout overrides each stack's readiness timeout when positive.
	StackTimeout time.Duration
	Events       *event.Emitter
	// BeforeDown runs before a lab is removed, with this manager (which holds the lab's
	// lock: the hook reads the lab through it, never through a second one) and progress
	// going to ev: chaos reverts the faults still active there (lab cannot import chaos,
	// which builds on lab), so that a `lab chaos run` holding one stops, rather than
	// acting on a cluster being deleted. An error stops the removal.
	BeforeDown func(ctx context.Context, m *Manager, name string, ev *event.Emitter) error
}

func (m *Manager) store() store { return store{root: m.StateDir} }

// lock takes the lab's lock, saying so when it has to wait for another process, and
// turning a timeout into a message naming the holder.
func (m *Manager) lock(ctx context.Context, name string) (*state.Lock, error) {
	l, err := state.Acquire(ctx, m.store().lockPath(name), 0)
	var locked *state.ErrLocked
	if errors.As(err, &locked) && m.LockWait > 0 {
		m.Events.Info(fmt.Sprintf("%s is changing lab %q; waiting up to %s for it to finish", holder(locked), name, m.LockWait))
		l, err = state.Acquire(ctx, m.store().lockPath(name), m.LockWait)
	}
	if errors.As(err, &locked) {
		who := holder(locked)
		return nil, errs.New(errs.Busy,
			fmt.Sprintf("%s is changing lab %q", who, name),
			"wait for it to finish and try again; the lock goes away when that process exits")
	}
	if err != nil && ctx.Err() != nil {
		return nil, interrupted("", ctx.Err())
	}
	return l, err
}

// holder names the process holding a lock.
func holder(locked *state.ErrLocked) string {
	if locked.Holder != "" {
		return "another lab process (pid " + locked.Holder + ")"
	}
	return "another lab process"
}

func (m *Manager) provider(name string) (cluster.Provider, error) {
	p, ok := m.Providers[name]
	if !ok {
		return nil, errs.Invalidf("use one of auto, kind, sim, existing, terraform", "unknown provider %q", name)
	}
	return p, nil
}

// Resolved is one lab as the engines need it: its status (name, provider, context,
// simulated or not, stacks, consent to chaos, its directory), what its provider can do,
// and its admin kubeconfig.
type Resolved struct {
	*Status
	Capabilities
	// AdminKubeconfig is the kubeconfig's content (Status.Kubeconfig is its path); nil,
	// and KubeconfigErr says why, for a lab whose creation never finished.
	AdminKubeconfig []byte
	KubeconfigErr   error
}

// Resolve reads the lab name for the engines: the one place commands learn what a lab
// is. A lab that does not exist is an Invalid error naming the labs there are.
func (m *Manager) Resolve(ctx context.Context, name string) (*Resolved, error) {
	st, err := m.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	r := &Resolved{Status: st, Capabilities: m.Capabilities(name)}
	r.AdminKubeconfig, r.KubeconfigErr = m.Kubeconfig(name)
	return r, nil
}

// Capabilities are what a lab's cluster is and what lab may do to it, from its provider.
type Capabilities struct {
	cluster.Info
	// Machines acts on the machines behind the nodes; nil when lab cannot reach them.
	Machines cluster.Machines
}

// Capabilities of the lab name, from the provider that made or adopted its cluster;
// none for a lab that does not exist.
func (m *Manager) Capabilities(name string) Capabilities {
	rec, err := m.store().load(name)
	if err != nil || rec == nil {
		return Capabilities{}
	}
	caps := Capabilities{Info: m.info(rec.Provider)}
	if mp, ok := m.Providers[rec.Provider].(cluster.MachineProvider); ok {
		caps.Machines = mp.Machines(m.request(name, rec.Spec.Spec.Cluster))
	}
	return caps
}

// info is what the named provider's clusters are; an unknown name is none of it.
func (m *Manager) info(provider string) cluster.Info {
	if p, ok := m.Providers[provider]; ok {
		return p.Info()
	}
	return cluster.Info{}
}

func (m *Manager) request(name string, c spec.ClusterSpec) cluster.Request {
	return cluster.Request{Name: name, Cluster: c, WorkDir: m.store().workDir(name), KubeconfigPath: m.UserKubeconfig}
}

// ValidateName checks a lab name given on the command line (file names are checked by
// the spec package).
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > 40 || !isDNSLabel(name) {
		return errs.Invalidf("use lower-case letters, digits and '-', at most 40 characters, starting with a letter or digit",
			"invalid lab name %q", name)
	}
	return nil
}

func isDNSLabel(s string) bool {
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && (r != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// interrupted turns a cancelled context into the error `lab` exits 130 with.
func interrupted(hint string, err error) error {
	return &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Hint: hint, Err: err}
}

// effectivePorts is what a provider really maps: one with host ports (kind) defaults
// to 80 and 443, the others map none (sim has no host network, existing is someone
// else's).
func effectivePorts(info cluster.Info, ports []int) []int {
	if !info.HostPorts {
		return []int{}
	}
	if ports == nil {
		return []int{80, 443}
	}
	return ports
}

func removeFile(path string) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func indent(lines []string) string { return "  " + strings.Join(lines, "\n  ") }
