package lab

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
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
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pod, port, err := kube.ServiceBackend(ctx, cs, s.Namespace, svc.Service, svc.Port)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "", "see why: kubectl get pods -n "+s.Namespace)
	}
	pf, err := kube.Forward(ctx, cfg, s.Namespace, pod, opts.LocalPort, port)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "", "check the pod: kubectl describe pod -n "+s.Namespace+" "+pod)
	}
	defer pf.Close()
	if opts.Ready != nil {
		opts.Ready(pf.URL + svc.Path)
	}
	select {
	case err := <-pf.Done():
		if ctx.Err() != nil || err == nil {
			return nil
		}
		return errs.Wrap(errs.Unavailable, err, "the port-forward stopped", "run `lab open "+target+"` again")
	case <-ctx.Done():
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
		err = m.noLab(name)
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
// labs (Info); an adopted cluster is simulated too when kwok fakes every one of its nodes (a
// sim cluster adopted with --provider existing, as tests and classrooms do).
func (m *Manager) simulated(ctx context.Context, rec *Record) bool {
	if m.info(rec.Provider).Simulated {
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
