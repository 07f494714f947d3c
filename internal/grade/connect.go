package grade

import (
	"context"
	"fmt"
	"net/url"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
)

// ConnectOptions say where checks are evaluated.
type ConnectOptions struct {
	// PrometheusURL, when set, is queried directly instead of the lab's Prometheus.
	PrometheusURL string
	// AlertmanagerURL, when set, is read directly instead of the lab's Alertmanager.
	AlertmanagerURL string
	// Kubeconfig is the cluster's; when nil, KubeconfigErr says why there is none.
	Kubeconfig    []byte
	KubeconfigErr error
	// Simulated is a sim lab: no Prometheus runs, no container answers HTTP and no
	// controller of a stack's custom resources (Argo Rollouts) acts.
	Simulated bool
}

// Need says which targets a set of checks uses.
type Need struct{ Prometheus, Alertmanager, Kube bool }

// Needs reports which targets the checks use, so that nothing else is connected.
func Needs(checks []spec.Check) Need {
	var n Need
	for _, c := range checks {
		switch c.Type() {
		case spec.CheckPromQL:
			n.Prometheus = true
		case spec.CheckAlert:
			if c.Alert.Source == spec.AlertSourceAlertmanager {
				n.Alertmanager = true
			} else {
				n.Prometheus = true
			}
		case spec.CheckResource, spec.CheckHTTP, spec.CheckRollout:
			n.Kube = true
		}
	}
	return n
}

// Connect prepares the targets the checks need. A target that cannot be had is not an
// error here: it becomes the error outcome of each check that needs it, so the report
// still shows the others. Only an invalid --prometheus-url or --alertmanager-url is
// returned, as bad input. close releases the port-forwards; call it when grading is done.
func Connect(ctx context.Context, opts ConnectOptions, checks []spec.Check) (t *Targets, close func(), err error) {
	t, close = &Targets{}, func() {}
	need := Needs(checks)
	if opts.PrometheusURL != "" {
		if t.Prometheus, err = prometheusClient(opts.PrometheusURL); err != nil {
			return nil, close, err
		}
	}
	if opts.AlertmanagerURL != "" {
		if t.Alertmanager, err = alertmanagerClient(opts.AlertmanagerURL); err != nil {
			return nil, close, err
		}
	}
	forwardProm := need.Prometheus && opts.PrometheusURL == "" && !opts.Simulated
	forwardAM := need.Alertmanager && opts.AlertmanagerURL == "" && !opts.Simulated
	if need.Kube || forwardProm || forwardAM {
		t.Kube, t.KubeErr = kubeTarget(opts)
	}
	if opts.Simulated {
		t.HTTPErr = ErrSimulatedHTTP
		t.PrometheusErr = ErrSimulatedPrometheus
		t.AlertmanagerErr = ErrSimulatedAlertmanager
		t.RolloutErr = ErrSimulatedRollouts
	}
	var closers []func()
	if forwardProm {
		closers = append(closers, t.forwardPrometheus(ctx))
	}
	if forwardAM {
		closers = append(closers, t.forwardAlertmanager(ctx))
	}
	return t, func() {
		for _, c := range closers {
			c()
		}
	}, nil
}

func prometheusClient(address string) (*metrics.Client, error) {
	if err := checkServerURL(address, "--prometheus-url", "Prometheus's web UI, such as http://localhost:9090"); err != nil {
		return nil, err
	}
	return metrics.New(address)
}

func alertmanagerClient(address string) (*metrics.Alertmanager, error) {
	if err := checkServerURL(address, "--alertmanager-url", "Alertmanager's web UI, such as http://localhost:9093"); err != nil {
		return nil, err
	}
	return metrics.NewAlertmanager(address), nil
}

// checkServerURL refuses, as bad input of flag, an address that is not http(s)://host.
func checkServerURL(address, flag, what string) error {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errs.Invalidf("give the address of "+what, "invalid %s %q", flag, address)
	}
	return nil
}

func kubeTarget(opts ConnectOptions) (*Kube, error) {
	if opts.Kubeconfig == nil {
		if opts.KubeconfigErr != nil {
			return nil, opts.KubeconfigErr
		}
		return nil, fmt.Errorf("no kubeconfig")
	}
	return NewKube(opts.Kubeconfig)
}

// forwardPrometheus reaches the lab's Prometheus through a port-forward to its Service.
func (t *Targets) forwardPrometheus(ctx context.Context) (close func()) {
	fw, describe, err := t.forward(ctx, "Prometheus", PrometheusService)
	if err == nil {
		t.Prometheus, err = metrics.New(fw.URL)
	}
	if err != nil {
		t.PrometheusErr = fmt.Errorf("%w; pass --prometheus-url to use another", err)
		return closeForward(fw)
	}
	t.Prometheus.Describe = describe
	return fw.Close
}

// forwardAlertmanager reaches the lab's Alertmanager the same way.
func (t *Targets) forwardAlertmanager(ctx context.Context) (close func()) {
	fw, describe, err := t.forward(ctx, "Alertmanager", AlertmanagerService)
	if err != nil {
		t.AlertmanagerErr = fmt.Errorf("%w; pass --alertmanager-url to use another", err)
		return closeForward(fw)
	}
	t.Alertmanager = metrics.NewAlertmanager(fw.URL)
	t.Alertmanager.Describe = describe
	return fw.Close
}

// forward opens a port-forward to a service of the monitoring stack, and says in words
// what it reaches, for error messages.
func (t *Targets) forward(ctx context.Context, what, service string) (*kube.PortForward, string, error) {
	if t.Kube == nil {
		return nil, "", fmt.Errorf("cannot reach the lab's %s: %w", what, t.KubeErr)
	}
	fw, err := ForwardService(ctx, t.Kube, MonitoringNamespace, service)
	if err != nil {
		return fw, "", fmt.Errorf("cannot reach the lab's %s (service %s/%s): %w", what, MonitoringNamespace, service, err)
	}
	return fw, fmt.Sprintf("the lab's %s (port-forward %s to service %s/%s)", what, fw.URL, MonitoringNamespace, service), nil
}

func closeForward(fw *kube.PortForward) func() {
	if fw == nil {
		return func() {}
	}
	return fw.Close
}
