package grade

import (
	"context"
	"fmt"
	"net/url"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
)

// ConnectOptions say where checks are evaluated.
type ConnectOptions struct {
	// PrometheusURL, when set, is queried directly instead of the lab's Prometheus.
	PrometheusURL string
	// Kubeconfig is the cluster's; when nil, KubeconfigErr says why there is none.
	Kubeconfig    []byte
	KubeconfigErr error
	// Simulated is a sim lab: no Prometheus runs and no container answers HTTP.
	Simulated bool
}

// Needs reports which targets the checks use, so that nothing else is connected.
func Needs(checks []spec.Check) (prometheus, kube bool) {
	for _, c := range checks {
		switch c.Type() {
		case spec.CheckPromQL, spec.CheckAlert:
			prometheus = true
		case spec.CheckResource, spec.CheckHTTP:
			kube = true
		}
	}
	return prometheus, kube
}

// Connect prepares the targets the checks need. A target that cannot be had is not an
// error here: it becomes the error outcome of each check that needs it, so the report
// still shows the others. Only an invalid --prometheus-url is returned, as bad input.
// close releases a port-forward; call it when grading is done.
func Connect(ctx context.Context, opts ConnectOptions, checks []spec.Check) (t *Targets, close func(), err error) {
	t, close = &Targets{}, func() {}
	needProm, needKube := Needs(checks)
	if opts.PrometheusURL != "" {
		if t.Prometheus, err = prometheusClient(opts.PrometheusURL); err != nil {
			return nil, close, err
		}
	}
	forward := needProm && opts.PrometheusURL == "" && !opts.Simulated
	if needKube || forward {
		t.Kube, t.KubeErr = kubeTarget(opts)
	}
	if opts.Simulated {
		t.HTTPErr = ErrSimulatedHTTP
		t.PrometheusErr = ErrSimulatedPrometheus
	}
	if forward {
		close = t.forwardPrometheus(ctx)
	}
	return t, close, nil
}

func prometheusClient(address string) (*metrics.Client, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.Invalidf("give the address of Prometheus's web UI, such as http://localhost:9090",
			"invalid --prometheus-url %q", address)
	}
	return metrics.New(address)
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
	if t.Kube == nil {
		t.PrometheusErr = fmt.Errorf("cannot reach the lab's Prometheus: %w", t.KubeErr)
		return func() {}
	}
	fw, err := ForwardService(ctx, t.Kube, PrometheusNamespace, PrometheusService)
	if err == nil {
		t.Prometheus, err = metrics.New(fw.URL)
	}
	if err == nil {
		t.Prometheus.Describe = fmt.Sprintf("the lab's Prometheus (port-forward %s to service %s/%s)", fw.URL, PrometheusNamespace, PrometheusService)
	}
	if err != nil {
		t.PrometheusErr = fmt.Errorf("cannot reach the lab's Prometheus (service %s/%s): %w; pass --prometheus-url to use another", PrometheusNamespace, PrometheusService, err)
		if fw != nil {
			fw.Close()
		}
		return func() {}
	}
	return fw.Close
}
