package grade

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/cloudnativelab/lab/internal/kube"
)

// The lab's in-cluster Prometheus and Alertmanager, as the monitoring stack installs
// them (charts/monitoring: both Services keep these names).
const (
	MonitoringNamespace = "monitoring"
	PrometheusService   = "prometheus"
	AlertmanagerService = "alertmanager"
)

// ForwardService opens a port-forward to a ready pod behind the service's first port,
// as `kubectl port-forward svc/NAME` does, and returns once it listens.
func ForwardService(ctx context.Context, k *Kube, namespace, service string) (*kube.PortForward, error) {
	findCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pod, port, err := kube.ServiceBackend(findCtx, k.Typed, namespace, service, 0)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("no service %s in namespace %s: install the monitoring stack", service, namespace)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return nil, describeAPIError(err)
	}
	if err != nil {
		return nil, err
	}
	return kube.Forward(ctx, k.Config, namespace, pod, 0, port)
}
