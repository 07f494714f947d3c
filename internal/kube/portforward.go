package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PodReady reports a pod that serves: Running, Ready, not being deleted.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ServiceBackend finds a ready pod behind a Service (the first by name, so repeated
// calls agree) and the container port that service port targets; port 0 means the
// Service's first port. API errors are wrapped, so callers can test them with apierrors.
func ServiceBackend(ctx context.Context, cs kubernetes.Interface, namespace, service string, port int) (string, int, error) {
	svc, err := cs.CoreV1().Services(namespace).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("finding service %s/%s: %w", namespace, service, err)
	}
	target, err := targetPort(svc, port)
	if err != nil {
		return "", 0, err
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", 0, fmt.Errorf("listing the pods of service %s/%s: %w", namespace, service, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for i := range pods.Items {
		p := &pods.Items[i]
		if !PodReady(p) {
			continue
		}
		if n, ok := containerPort(p, target); ok {
			return p.Name, n, nil
		}
	}
	return "", 0, fmt.Errorf("no Running and Ready pod behind service %s/%s", namespace, service)
}

func targetPort(svc *corev1.Service, port int) (intstr.IntOrString, error) {
	if len(svc.Spec.Selector) == 0 {
		return intstr.IntOrString{}, fmt.Errorf("service %s/%s has no selector to forward to", svc.Namespace, svc.Name)
	}
	for _, p := range svc.Spec.Ports {
		if port != 0 && int(p.Port) != port {
			continue
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
			return intstr.FromInt32(p.Port), nil
		}
		return p.TargetPort, nil
	}
	return intstr.IntOrString{}, fmt.Errorf("service %s/%s has no port %d", svc.Namespace, svc.Name, port)
}

// containerPort resolves a target port on a pod: a number as is, a name through the
// pod's container ports.
func containerPort(p *corev1.Pod, target intstr.IntOrString) (int, bool) {
	if target.Type == intstr.Int {
		return target.IntValue(), true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == target.StrVal {
				return int(cp.ContainerPort), true
			}
		}
	}
	return 0, false
}

// PortForward is a running port-forward from 127.0.0.1 to a pod, as `kubectl
// port-forward` makes.
type PortForward struct {
	// URL is http://127.0.0.1:<local port>.
	URL    string
	fw     *portforward.PortForwarder
	failed chan error
}

// Forward opens a port-forward from localPort (0: a free one) to the pod's podPort and
// returns once it listens. It lasts until Close or until ctx ends.
func Forward(ctx context.Context, cfg *rest.Config, namespace, pod string, localPort, podPort int) (*PortForward, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 0 // a forward lives as long as its user wants it
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, err
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddressesWithContext(ctx, dialer, []string{"127.0.0.1"},
		[]string{fmt.Sprintf("%d:%d", localPort, podPort)}, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	pf := &PortForward{fw: fw, failed: make(chan error, 1)}
	go func() { pf.failed <- fw.ForwardPorts() }()
	select {
	case err := <-pf.failed:
		return nil, fmt.Errorf("port-forward to pod %s/%s: %w", namespace, pod, err)
	case <-ready:
	case <-ctx.Done():
		fw.Close()
		return nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		fw.Close()
		return nil, fmt.Errorf("the port-forward to pod %s/%s opened no local port: %v", namespace, pod, err)
	}
	pf.URL = fmt.Sprintf("http://127.0.0.1:%d", ports[0].Local)
	return pf, nil
}

// Done delivers the error that ended the forward (nil when closed).
func (pf *PortForward) Done() <-chan error { return pf.failed }

// Close stops the forward.
func (pf *PortForward) Close() { pf.fw.Close() }
