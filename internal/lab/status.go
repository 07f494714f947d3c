package lab

import (
	"context"
	"slices"
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
}

// ErrNoLab is the kind of error for a lab that does not exist.
func errNoLab(name string) error {
	return errs.New(errs.Invalid, "no lab named "+quote(name), "see `lab list` for the labs that exist, or create it with `lab up`")
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
		return nil, errNoLab(name)
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
		s.Note = st.Problem + ". Run `lab up` to repair it. " + s.Note
	}
	if st.State == cluster.Running {
		s.Nodes = m.nodeSummary(ctx, rec)
	}
	return s
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
		return nil, errNoLab(name)
	}
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "lab "+quote(name)+" has no kubeconfig yet", "run `lab up` to finish creating it")
	}
	return data, nil
}

// Names lists the labs that have a record.
func (m *Manager) Names() ([]string, error) { return m.store().names() }
