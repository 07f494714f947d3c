package grade

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// The lab's in-cluster Prometheus, as the monitoring stack installs it.
const (
	PrometheusNamespace = "monitoring"
	PrometheusService   = "prometheus"
)

// Forward is a port-forward from a local port to a pod behind a Service.
type Forward struct {
	// URL is http://127.0.0.1:PORT.
	URL  string
	stop chan struct{}
	done chan struct{}
}

// Close ends the port-forward.
func (f *Forward) Close() {
	close(f.stop)
	<-f.done
}

// ForwardService opens a port-forward to a ready pod behind the service's first port,
// as `kubectl port-forward svc/NAME` does, and returns once it listens.
func ForwardService(ctx context.Context, k *Kube, namespace, service string) (*Forward, error) {
	cs, err := kubernetes.NewForConfig(k.Config)
	if err != nil {
		return nil, err
	}
	pod, port, err := backendOf(ctx, cs, namespace, service)
	if err != nil {
		return nil, err
	}
	transport, upgrader, err := spdy.RoundTripperFor(k.Config)
	if err != nil {
		return nil, err
	}
	target := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, target)
	f := &Forward{stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, f.stop, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	failed := make(chan error, 1)
	go func() {
		defer close(f.done)
		failed <- fw.ForwardPorts()
	}()
	select {
	case <-ready:
	case err := <-failed:
		return nil, fmt.Errorf("port-forward to pod %s/%s: %w", namespace, pod, err)
	case <-ctx.Done():
		f.Close()
		return nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		f.Close()
		return nil, fmt.Errorf("port-forward to pod %s/%s opened no local port: %v", namespace, pod, err)
	}
	f.URL = fmt.Sprintf("http://127.0.0.1:%d", ports[0].Local)
	return f, nil
}

// backendOf finds a ready pod behind the service and the container port its first
// service port targets.
func backendOf(ctx context.Context, cs kubernetes.Interface, namespace, service string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	svc, err := cs.CoreV1().Services(namespace).Get(ctx, service, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", 0, fmt.Errorf("no service %s in namespace %s: install the monitoring stack, or pass --prometheus-url", service, namespace)
	}
	if err != nil {
		return "", 0, describeAPIError(err)
	}
	if len(svc.Spec.Ports) == 0 || len(svc.Spec.Selector) == 0 {
		return "", 0, fmt.Errorf("service %s/%s has no ports or no selector to forward to", namespace, service)
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", 0, describeAPIError(err)
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if !podReady(pod) {
			continue
		}
		if port, ok := containerPort(pod, svc.Spec.Ports[0]); ok {
			return pod.Name, port, nil
		}
	}
	return "", 0, fmt.Errorf("service %s/%s has no ready pod to forward to", namespace, service)
}

func podReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// containerPort resolves a service port's target port (a number or a container port's
// name) in pod.
func containerPort(pod *corev1.Pod, sp corev1.ServicePort) (int, bool) {
	target := sp.TargetPort
	switch {
	case target.Type == intstr.Int && target.IntValue() > 0:
		return target.IntValue(), true
	case target.Type == intstr.String && target.StrVal != "":
		for _, c := range pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == target.StrVal {
					return int(p.ContainerPort), true
				}
			}
		}
		return 0, false
	}
	return int(sp.Port), true
}
