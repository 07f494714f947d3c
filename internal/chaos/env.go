package chaos

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
)

// Env is what faults work with: the lab, its clients and the guard rails' knowledge of
// the cluster.
type Env struct {
	Lab      *Lab
	Client   kubernetes.Interface
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
	Events   *event.Emitter
	Now      func() time.Time

	protectedOnce sync.Once
	protected     map[string]string // namespace -> why it is protected
	protectedErr  error
}

// newEnv builds the clients for a lab. The client allows more requests per second than
// lab's default: a pod-kill of 100 pods sends 100 deletions at once, and throttling
// them would measure client-go's rate limiter rather than the cluster.
func newEnv(l *Lab, ev *event.Emitter, now func() time.Time) (*Env, error) {
	cfg, err := kube.RESTConfig(l.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig of lab %q: %w", l.Name, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	c, err := kube.NewClients(cfg)
	if err != nil {
		return nil, err
	}
	return &Env{Lab: l, Client: c.Typed, Dynamic: c.Dynamic, Metadata: c.Metadata, Events: ev, Now: now}, nil
}

// rollouts is the Argo Rollouts client of the lab's cluster.
func (env *Env) rollouts() *delivery.Client {
	return &delivery.Client{Dynamic: env.Dynamic, Kube: env.Client}
}

// systemNamespaces hold the cluster's own components.
var systemNamespaces = map[string]string{
	"kube-system":     "it holds the cluster's own components",
	"kube-public":     "it belongs to the cluster",
	"kube-node-lease": "it holds the nodes' heartbeats",
}

// Labels with which lab marks the namespaces of the stacks it installs.
const (
	labLabel       = "lab.cloudnativelab.io/lab"
	managedByLabel = "app.kubernetes.io/managed-by"
)

// stackNamespaces are namespaces of lab's stacks known by name, protected even before
// the stack installer labels what it creates.
var stackNamespaces = []string{"monitoring"}

// protectedReason says why chaos must leave namespace ns alone, or "" when it may act.
func (env *Env) protectedReason(ctx context.Context, ns string) (string, error) {
	env.protectedOnce.Do(func() { env.protected, env.protectedErr = env.loadProtected(ctx) })
	return env.protected[ns], env.protectedErr
}

func (env *Env) loadProtected(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for ns, why := range systemNamespaces {
		out[ns] = why
	}
	for _, ns := range stackNamespaces {
		out[ns] = "it holds lab's " + ns + " stack"
	}
	list, err := env.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: labLabel + "," + managedByLabel + "=lab"})
	if err != nil {
		return nil, fmt.Errorf("listing the namespaces of lab's stacks: %w", err)
	}
	for _, ns := range list.Items {
		if ns.Labels[kube.ChaosTargetLabel] == "true" {
			// A practice workload (the demo shop): breaking it is the point.
			delete(out, ns.Name)
			continue
		}
		out[ns.Name] = "lab installed it for a stack of lab " + ns.Labels[labLabel]
	}
	return out, nil
}
