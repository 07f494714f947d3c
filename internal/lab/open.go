package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// OpenOptions are the options of `lab open`.
type OpenOptions struct {
	// LocalPort is the port on 127.0.0.1 to listen on; 0 picks a free one.
	LocalPort int
	// Ready is called with the URL once the forward listens.
	Ready func(url string)
}

// Open is `lab open`: it forwards a local port to the pod behind one of the lab's stack
// Services, calls opts.Ready with the URL, and keeps forwarding until ctx ends.
func (m *Manager) Open(ctx context.Context, name, target string, opts OpenOptions) error {
	rec, s, svc, err := m.stackService(ctx, name, target, m.catalog().FindService)
	if err != nil {
		return err
	}
	if m.simulated(ctx, rec) {
		return errs.New(errs.Unavailable,
			fmt.Sprintf("lab %q is simulated: its pods report Running but no container runs, so nothing would answer behind a port-forward to %s", name, target),
			"open it on a real cluster: `lab up --provider kind` (needs Docker), or adopt one with --provider existing")
	}
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return err
	}
	cfg, err := kube.RESTConfig(data)
	if err != nil {
		return err
	}
	// A port-forward lives as long as the user wants it: no request timeout.
	cfg.Timeout = 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pod, port, err := serviceBackend(ctx, cs, s.Namespace, svc.Service, svc.Port)
	if err != nil {
		return err
	}
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return err
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(s.Namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	ready := make(chan struct{})
	pf, err := portforward.NewOnAddressesWithContext(ctx, dialer, []string{"127.0.0.1"},
		[]string{fmt.Sprintf("%d:%d", opts.LocalPort, port)}, ready, io.Discard, io.Discard)
	if err != nil {
		return err
	}
	failed := make(chan error, 1)
	go func() { failed <- pf.ForwardPorts() }()
	select {
	case err := <-failed:
		return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("forwarding to %s/%s", s.Namespace, pod), "check the pod: kubectl describe pod -n "+s.Namespace+" "+pod)
	case <-ready:
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) == 0 {
		return fmt.Errorf("the port-forward reports no port: %v", err)
	}
	if opts.Ready != nil {
		opts.Ready(fmt.Sprintf("http://127.0.0.1:%d%s", ports[0].Local, svc.Path))
	}
	select {
	case err := <-failed:
		if ctx.Err() != nil {
			return nil
		}
		return errs.Wrap(errs.Unavailable, err, "the port-forward stopped", "run `lab open "+target+"` again")
	case <-ctx.Done():
		pf.Close()
		return nil
	}
}

// Credentials are a service's generated login.
type Credentials struct {
	Service  string `json:"service"`
	URLHint  string `json:"open"`
	User     string `json:"user"`
	Password string `json:"password"`
	// Secret is where they are kept, as namespace/name.
	Secret string `json:"secret"`
}

// Creds is `lab creds`: the login a stack generated for one of its services.
func (m *Manager) Creds(ctx context.Context, name, target string) (*Credentials, error) {
	rec, s, svc, err := m.stackService(ctx, name, target, m.catalog().FindLogin)
	if err != nil {
		return nil, err
	}
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		return nil, err
	}
	secret, err := cs.CoreV1().Secrets(s.Namespace).Get(ctx, svc.Login.Secret, metav1.GetOptions{})
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("reading the credentials of %s", target),
			fmt.Sprintf("check the stack: lab stacks list --name %s", name))
	}
	return &Credentials{
		Service: target, URLHint: "lab open " + target,
		User: string(secret.Data[svc.Login.UserKey]), Password: string(secret.Data[svc.Login.PasswordKey]),
		Secret: s.Namespace + "/" + svc.Login.Secret,
	}, nil
}

// stackService finds the lab and the installed stack service a command names.
func (m *Manager) stackService(ctx context.Context, name, target string, find func(string) (stack.Stack, stack.Service, error)) (*Record, stack.Stack, stack.Service, error) {
	s, svc, err := find(target)
	if err != nil {
		return nil, s, svc, err
	}
	if err := ValidateName(name); err != nil {
		return nil, s, svc, err
	}
	rec, err := m.store().load(name)
	if err == nil && rec == nil {
		err = errNoLab(name)
	}
	if err != nil {
		return nil, s, svc, err
	}
	if !slices.Contains(installedStackNames(rec.Stacks), s.Name) {
		return nil, s, svc, errs.Invalidf(fmt.Sprintf("add it: lab stacks add %s --name %s", s.Name, name),
			"%s belongs to stack %s, which lab %q does not have", target, s.Name, name)
	}
	return rec, s, svc, nil
}

// simulated tells whether the lab's pods really run: its provider says so for sim
// labs; an adopted cluster is simulated too when kwok fakes every one of its nodes (a
// sim cluster adopted with --provider existing, as tests and classrooms do).
func (m *Manager) simulated(ctx context.Context, rec *Record) bool {
	if rec.Provider == spec.ProviderSim {
		return true
	}
	if p, err := m.provider(rec.Provider); err == nil {
		if st, err := p.Status(ctx, m.request(rec.Name, rec.Spec.Spec.Cluster)); err == nil && st.Simulated {
			return true
		}
	}
	return kwokNodes(ctx, rec)
}

// kwokAnnotation marks the nodes kwok manages.
const kwokAnnotation = "kwok.x-k8s.io/node"

func kwokNodes(ctx context.Context, rec *Record) bool {
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return false
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		return false
	}
	for _, n := range nodes.Items {
		if _, ok := n.Annotations[kwokAnnotation]; !ok {
			return false
		}
	}
	return true
}

// serviceBackend finds a Running and Ready pod behind the Service and the container
// port its service port leads to, resolving a named target port on the pod.
func serviceBackend(ctx context.Context, cs kubernetes.Interface, namespace, service string, port int) (string, int, error) {
	svc, err := cs.CoreV1().Services(namespace).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return "", 0, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("finding service %s/%s", namespace, service), "")
	}
	target, err := targetPort(svc, port)
	if err != nil {
		return "", 0, err
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", 0, err
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase != corev1.PodRunning || !podReady(p) || p.DeletionTimestamp != nil {
			continue
		}
		if n, ok := containerPort(p, target); ok {
			return p.Name, n, nil
		}
	}
	return "", 0, errs.New(errs.Unavailable, fmt.Sprintf("no Running and Ready pod behind service %s/%s", namespace, service),
		"see why: kubectl get pods -n "+namespace)
}

func targetPort(svc *corev1.Service, port int) (intstr.IntOrString, error) {
	for _, p := range svc.Spec.Ports {
		if int(p.Port) != port {
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

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
