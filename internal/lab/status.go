package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/stack"
)

// Status is what `lab status` and `lab list` report of a lab.
type Status struct {
	Name       string           `json:"name"`
	Provider   string           `json:"provider"`
	Phase      Phase            `json:"phase"`
	State      cluster.State    `json:"state"`
	Simulated  bool             `json:"simulated"`
	Context    string           `json:"context"`
	Kubeconfig string           `json:"kubeconfig"`
	Nodes      kube.NodeSummary `json:"nodes"`
	// Stacks are the stacks the lab declares and those added to it since.
	Stacks []string `json:"stacks"`
	// Releases are the Helm releases lab installed, as last recorded.
	Releases  []stack.Release `json:"releases,omitempty"`
	Source    string          `json:"source"`
	CreatedAt time.Time       `json:"createdAt"`
	// AllowChaos is the consent to chaos recorded for an adopted cluster.
	AllowChaos bool `json:"allowChaos,omitempty"`
	// Dir holds everything lab keeps for the lab (record, kubeconfig, chaos journal).
	Dir string `json:"dir"`
	// Note is a plain sentence the user must not miss (a simulated cluster's limits).
	Note string `json:"note,omitempty"`
	// Hint is what to run when the lab is not usable as it is (stopped, unfinished,
	// degraded), empty when it is.
	Hint string `json:"hint,omitempty"`

	problem bool // a component of a running cluster is down
}

// NodesCell reads "2/2 Ready", or "-" when the cluster does not answer: the nodes
// column of `lab status` and `lab list`.
func (s *Status) NodesCell() string {
	if s.Nodes.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d Ready", s.Nodes.Ready, s.Nodes.Total)
}

// noLab is the error for a lab that does not exist, naming the labs that do: with
// several labs and no --name, commands look for "default", which may not be one.
func (m *Manager) noLab(name string) error {
	names, _ := m.store().names()
	if len(names) == 0 {
		return errs.New(errs.Invalid, "no lab named "+quote(name), "create it with `lab up`")
	}
	return errs.New(errs.Invalid, fmt.Sprintf("no lab named %q; the labs here are: %s", name, strings.Join(names, ", ")),
		fmt.Sprintf("pick one with --name (for example --name %s), or create %q with `lab up --name %s`", names[0], name, name))
}

func quote(s string) string { return `"` + s + `"` }

// Status reports one lab.
func (m *Manager) Status(ctx context.Context, name string) (*Status, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	rec, err := m.store().load(name)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, m.noLab(name)
	}
	return m.status(ctx, rec), nil
}

// List reports every lab lab knows of.
func (m *Manager) List(ctx context.Context) ([]*Status, error) {
	names, err := m.store().names()
	if err != nil {
		return nil, err
	}
	out := make([]*Status, 0, len(names))
	for _, n := range names {
		rec, err := m.store().load(n)
		if err != nil || rec == nil {
			continue // a lab being deleted right now
		}
		out = append(out, m.status(ctx, rec))
	}
	return out, nil
}

func (m *Manager) status(ctx context.Context, rec *Record) *Status {
	s := &Status{
		Name: rec.Name, Provider: rec.Provider, Phase: rec.Phase, Context: rec.Context,
		Kubeconfig: rec.Kubeconfig, Stacks: stackNames(rec), Releases: rec.Stacks, Source: rec.Source, CreatedAt: rec.CreatedAt,
		State: cluster.Missing, AllowChaos: rec.Spec.Spec.Cluster.AllowChaos, Dir: m.store().dir(rec.Name),
	}
	if s.Stacks == nil {
		s.Stacks = []string{}
	}
	defer func() { s.Hint = statusHint(s) }()
	p, err := m.provider(rec.Provider)
	if err != nil {
		s.Note = err.Error()
		return s
	}
	st, err := p.Status(ctx, m.request(rec.Name, rec.Spec.Spec.Cluster))
	if err != nil {
		s.Note = err.Error()
		return s
	}
	s.State, s.Simulated = st.State, st.Simulated
	if st.State != cluster.Running || st.Simulated {
		s.Note = st.Detail
	}
	if st.Problem != "" {
		s.Note = st.Problem + ". " + s.Note
		s.problem = true
	}
	if st.State == cluster.Running {
		s.Nodes = m.nodeSummary(ctx, rec)
	}
	return s
}

// statusHint says what to run for a lab that is not usable as it is.
func statusHint(s *Status) string {
	up, down := "`lab up --name "+s.Name+"`", "`lab down --name "+s.Name+"`"
	switch {
	case s.Phase == Creating:
		return "its creation did not finish: " + up + " completes it, " + down + " removes what was made"
	case s.Phase == Deleting:
		return "its deletion did not finish: " + down + " completes it"
	case s.State == cluster.Stopped:
		return up + " starts it again, keeping what is in it"
	case s.State == cluster.Missing && s.Note == "":
		return "its cluster is gone: " + up + " creates it again (empty), " + down + " forgets the lab"
	case s.problem:
		return up + " repairs it (restarts what stopped, keeping what is in it)"
	}
	return ""
}

// stackNames lists the lab's declared stacks, then those added with `lab stacks add`.
func stackNames(rec *Record) []string {
	out := slices.Clone(rec.Spec.Spec.Stacks)
	for _, n := range installedStackNames(rec.Stacks) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (m *Manager) nodeSummary(ctx context.Context, rec *Record) kube.NodeSummary {
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return kube.NodeSummary{}
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		return kube.NodeSummary{}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, _ := kube.Nodes(ctx, cs)
	return n
}

// Kubeconfig returns the lab's admin kubeconfig.
func (m *Manager) Kubeconfig(name string) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	rec, err := m.store().load(name)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, m.noLab(name)
	}
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "lab "+quote(name)+" has no kubeconfig yet", "run `lab up` to finish creating it")
	}
	return data, nil
}

// Dir is the directory lab keeps a lab's files in (its record, kubeconfig and chaos
// journal), whether or not the lab exists.
func (m *Manager) Dir(name string) string { return m.store().dir(name) }

// Names lists the labs that have a record.
func (m *Manager) Names() ([]string, error) { return m.store().names() }
