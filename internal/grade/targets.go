package grade

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/metrics"
)

// Targets are what checks are evaluated against. A missing target comes with the reason,
// which checks that need it report as their error.
type Targets struct {
	// Prometheus answers promql and alert checks.
	Prometheus    *metrics.Client
	PrometheusErr error
	// Alertmanager answers alert checks with source: alertmanager.
	Alertmanager    *metrics.Alertmanager
	AlertmanagerErr error
	// Kube answers resource and http checks.
	Kube    *Kube
	KubeErr error
	// HTTPErr, when set, is why http checks cannot work even though Kube answers (a
	// simulated cluster runs no containers to answer them).
	HTTPErr error
	// RolloutErr, when set, is why rollout checks cannot work even though Kube answers
	// (on a simulated cluster no Argo Rollouts controller runs to move a rollout on).
	RolloutErr error
}

// Reasons a target is missing on a simulated lab, as reports show them.
var (
	ErrSimulatedPrometheus   = errors.New("needs a real cluster (simulated lab: no Prometheus runs)")
	ErrSimulatedHTTP         = errors.New("needs a real cluster (simulated lab: no container serves HTTP)")
	ErrSimulatedAlertmanager = errors.New("needs a real cluster (simulated lab: no Alertmanager runs)")
	ErrSimulatedRollouts     = errors.New("needs a real cluster (simulated lab: no Argo Rollouts controller runs)")
)

// NeedsRealCluster reports a result that is an error only because the lab is
// simulated: one of the ErrSimulated reasons, which a scenario reports as skipped.
func NeedsRealCluster(r Result) bool {
	if r.Outcome != Error {
		return false
	}
	for _, err := range []error{ErrSimulatedPrometheus, ErrSimulatedHTTP, ErrSimulatedAlertmanager, ErrSimulatedRollouts} {
		if strings.Contains(r.Error, err.Error()) {
			return true
		}
	}
	return false
}

func (t *Targets) prometheus() (*metrics.Client, error) {
	switch {
	case t.Prometheus != nil:
		return t.Prometheus, nil
	case t.PrometheusErr != nil:
		return nil, t.PrometheusErr
	}
	return nil, errors.New("no Prometheus to query: pass --prometheus-url")
}

func (t *Targets) alertmanager() (*metrics.Alertmanager, error) {
	switch {
	case t.Alertmanager != nil:
		return t.Alertmanager, nil
	case t.AlertmanagerErr != nil:
		return nil, t.AlertmanagerErr
	}
	return nil, errors.New("no Alertmanager to read: pass --alertmanager-url")
}

func (t *Targets) kube() (*Kube, error) {
	switch {
	case t.Kube != nil:
		return t.Kube, nil
	case t.KubeErr != nil:
		return nil, t.KubeErr
	}
	return nil, errors.New("no cluster to look at: pass --kubeconfig or grade a lab")
}

// Kube is a cluster's API: a dynamic client for any kind of object, a mapper from kinds
// to resources, and an HTTP client for the service proxy.
type Kube struct{ *kube.Clients }

// NewKube connects to the cluster of a kubeconfig's current context. Nothing is sent
// until a check asks.
func NewKube(kubeconfig []byte) (*Kube, error) {
	cfg, err := kube.RESTConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	return NewKubeForConfig(cfg)
}

// NewKubeForConfig is NewKube for a client configuration.
func NewKubeForConfig(cfg *rest.Config) (*Kube, error) {
	c, err := kube.NewClients(cfg)
	if err != nil {
		return nil, err
	}
	return &Kube{c}, nil
}
