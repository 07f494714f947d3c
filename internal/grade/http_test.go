package grade

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// serveOnHostIP serves handler on this machine's first non-loopback IPv4 address: the
// API server refuses to proxy to loopback, and no pod of the sim cluster serves HTTP.
func serveOnHostIP(t *testing.T, handler http.Handler) (string, int) {
	t.Helper()
	ip := hostIP(t)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: handler}
	go server.Serve(l)
	t.Cleanup(func() { server.Close() })
	return ip, l.Addr().(*net.TCPAddr).Port
}

func hostIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address for the API server to proxy to")
	return ""
}

// createManualService makes a Service without selector whose Endpoints point at
// ip:port, so the API server's service proxy reaches the test's server. The proxy only
// dials addresses of pods, so the address belongs to a pod that no node runs (kwok
// leaves it alone) and whose status the test sets to Running at that IP.
func createManualService(t *testing.T, namespace, name, ip string, port int) {
	t.Helper()
	ctx := context.Background()
	cfg, err := kube.RESTConfig(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WarningHandler = rest.NoWarnings{} // v1 Endpoints are deprecated, and what the proxy reads
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), namespace, metav1.DeleteOptions{}) })
	pod := createPodAt(t, cs, namespace, name+"-backend", ip)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	if _, err := cs.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: ip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: pod.Name, UID: pod.UID}}},
			Ports:     []corev1.EndpointPort{{Name: "http", Port: int32(port)}},
		}},
	}
	if _, err := cs.CoreV1().Endpoints(namespace).Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createPodAt creates a pod that no node may run and reports it Running at ip.
func createPodAt(t *testing.T, cs kubernetes.Interface, namespace, name, ip string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"lab.cloudnativelab.io/test": "no-such-node"},
			Containers:   []corev1.Container{{Name: "web", Image: "test"}},
		},
	}
	// A new namespace has no default service account for a moment: admission refuses
	// pods until the controller made it.
	var err error
	want := pod
	if waitErr := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pod, err = cs.CoreV1().Pods(namespace).Create(ctx, want, metav1.CreateOptions{})
		return err == nil, nil
	}); waitErr != nil {
		t.Fatal(err)
	}
	// The scheduler writes the pod's status too (it cannot place it): retry on conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := cs.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		latest.Status.Phase, latest.Status.PodIP, latest.Status.PodIPs = corev1.PodRunning, ip, []corev1.PodIP{{IP: ip}}
		pod, err = cs.CoreV1().Pods(namespace).UpdateStatus(ctx, latest, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

func httpCheck(id string, h spec.HTTPCheck) spec.Check {
	c := spec.Check{ID: id, Timeout: 2 * time.Second, Interval: 250 * time.Millisecond, HTTP: &h}
	c.Default()
	if err := spec.ValidateChecks("checks", []spec.Check{c}); err != nil {
		panic(err)
	}
	return c
}

func TestHTTPChecks(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok: all good") })
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "q="+r.URL.Query().Get("q")) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		fmt.Fprint(w, "late")
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	ip, port := serveOnHostIP(t, mux)
	const ns = "grade-http"
	createManualService(t, ns, "web", ip, port)
	admin, err := NewKube(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	targets := &Targets{Kube: admin}
	web := func(path string, mod func(*spec.HTTPCheck)) spec.HTTPCheck {
		h := spec.HTTPCheck{Namespace: ns, Service: "web", Port: "http", Path: path}
		if mod != nil {
			mod(&h)
		}
		return h
	}
	tests := []struct {
		name     string
		check    spec.Check
		outcome  Outcome
		evidence []string
	}{
		{"status and body", httpCheck("ok", web("/healthz", func(h *spec.HTTPCheck) { h.Body = "^ok" })), Pass, []string{`status 200`, `"ok: all good"`}},
		{"a query string", httpCheck("query", web("/query?q=lab", func(h *spec.HTTPCheck) { h.Body = "^q=lab$" })), Pass, nil},
		{"the only port when none is given", httpCheck("only-port", web("/healthz", func(h *spec.HTTPCheck) { h.Port = "" })), Pass, nil},
		{"the port by number", httpCheck("port-number", web("/healthz", func(h *spec.HTTPCheck) { h.Port = "80" })), Pass, nil},
		{"a body that does not match", httpCheck("body", web("/healthz", func(h *spec.HTTPCheck) { h.Body = "^ready" })), Fail,
			[]string{`body: expected a match of "^ready", got "ok: all good"`}},
		{"a status that differs", httpCheck("status", web("/broken", nil)), Fail, []string{"status: expected 200, got 503"}},
		{"a 404 of the service itself", httpCheck("not-found", web("/nowhere", func(h *spec.HTTPCheck) { h.Status = 404 })), Pass, nil},
		{"too slow", httpCheck("slow", web("/slow", func(h *spec.HTTPCheck) { h.MaxLatency = 100 * time.Millisecond })), Fail,
			[]string{"latency: expected at most 100ms, got"}},
		{"a service that does not exist", httpCheck("no-service", spec.HTTPCheck{Namespace: ns, Service: "nope", Path: "/"}), Fail,
			[]string{"service grade-http/nope not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gradeOne(t, targets, tt.check)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome = %s, want %s; evidence %+v, error %q", r.Outcome, tt.outcome, r.Evidence, r.Error)
			}
			all := r.Evidence.Actual + "\n" + strings.Join(r.Evidence.Diff, "\n") + "\n" + r.Error
			for _, want := range tt.evidence {
				if !strings.Contains(all, want) {
					t.Errorf("evidence does not mention %q:\n%s", want, all)
				}
			}
		})
	}
}

// TestHTTPCheckErrors: what keeps an http check from being evaluated is an error with
// its reason, never a pass: a simulated lab, and a pod the API server cannot dial.
func TestHTTPCheckErrors(t *testing.T) {
	t.Parallel()
	admin, err := NewKube(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ip := hostIP(t)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there any more
	createManualService(t, "grade-http-errors", "gone", ip, closedPort)
	check := httpCheck("unreachable", spec.HTTPCheck{Namespace: "grade-http-errors", Service: "gone", Port: "http", Path: "/"})
	if r := gradeOne(t, &Targets{Kube: admin}, check); r.Outcome != Error || !strings.Contains(r.Error, "could not proxy") {
		t.Errorf("a backend that refuses connections: %s %q %+v", r.Outcome, r.Error, r.Evidence)
	}
	twoPorts := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "two-ports"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "http-metrics", Port: 9797}}},
	}
	if _, err := admin.Typed.CoreV1().Services("grade-http-errors").Create(context.Background(), twoPorts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ambiguous := httpCheck("ambiguous", spec.HTTPCheck{Namespace: "grade-http-errors", Service: "two-ports", Path: "/"})
	if r := gradeOne(t, &Targets{Kube: admin}, ambiguous); r.Outcome != Error || !strings.Contains(r.Error, "2 ports (http, http-metrics): give the check's port, e.g. port: http") {
		t.Errorf("a service with two ports and no port in the check: %s %q", r.Outcome, r.Error)
	}
	simulated := &Targets{Kube: admin, HTTPErr: ErrSimulatedHTTP}
	r := gradeOne(t, simulated, check)
	if r.Outcome != Error || r.Error != ErrSimulatedHTTP.Error() || r.Attempts != 1 {
		t.Errorf("on a simulated lab: %s %q after %d attempts", r.Outcome, r.Error, r.Attempts)
	}
}
