// Package existing adopts a cluster lab did not create, through a kubeconfig context.
// lab never deletes such a cluster: `lab down` removes only what lab installed on it
// (namespaces labelled with the lab's name).
package existing

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Provider adopts existing clusters.
type Provider struct{}

// New returns the existing provider.
func New() *Provider { return &Provider{} }

var _ cluster.Provider = (*Provider)(nil)

func (p *Provider) Name() string { return spec.ProviderExisting }

// Info: the cluster is someone else's; whether it is simulated, its Status says.
func (p *Provider) Info() cluster.Info { return cluster.Info{Adopted: true} }

// Preflight checks that the context exists and its API server answers.
func (p *Provider) Preflight(ctx context.Context, req cluster.Request, _ *event.Emitter) error {
	data, err := p.Kubeconfig(ctx, req)
	if err != nil {
		return err
	}
	if _, err := kube.Ping(ctx, data); err != nil {
		return errs.Wrap(errs.Unavailable, err,
			fmt.Sprintf("the cluster of context %q does not answer", contextName(req)),
			"check the context with `kubectl --context "+contextName(req)+" get nodes`")
	}
	return nil
}

// Create has nothing to create: the cluster is someone else's.
func (p *Provider) Create(context.Context, cluster.Request, *event.Emitter) error { return nil }

// Delete removes the namespaces lab installed on the cluster, and nothing else.
func (p *Provider) Delete(ctx context.Context, req cluster.Request) error {
	data, err := p.Kubeconfig(ctx, req)
	if err != nil {
		return err
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		return err
	}
	list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: kube.LabLabel + "=" + req.Name})
	if err != nil {
		return fmt.Errorf("listing the namespaces lab installed: %w", err)
	}
	for _, ns := range list.Items {
		err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting namespace %s: %w", ns.Name, err)
		}
	}
	return nil
}

// Kubeconfig is the adopted context, extracted from the user's kubeconfig.
func (p *Provider) Kubeconfig(_ context.Context, req cluster.Request) ([]byte, error) {
	data, _, err := kube.ExtractContext(req.KubeconfigPath, req.Cluster.Context)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot adopt the cluster",
			"name a context of your kubeconfig with --context or spec.cluster.context (see `kubectl config get-contexts`)")
	}
	return data, nil
}

// Status is Running when the API server answers, Stopped otherwise; never Missing,
// since lab does not own the cluster's existence.
func (p *Provider) Status(ctx context.Context, req cluster.Request) (cluster.Status, error) {
	data, err := p.Kubeconfig(ctx, req)
	if err != nil {
		return cluster.Status{State: cluster.Stopped, Detail: err.Error()}, nil
	}
	v, err := kube.Ping(ctx, data)
	if err != nil {
		return cluster.Status{State: cluster.Stopped, Detail: "the API server does not answer: " + err.Error()}, nil
	}
	return cluster.Status{State: cluster.Running, Detail: "adopted cluster, Kubernetes " + v}, nil
}

func contextName(req cluster.Request) string {
	if req.Cluster.Context != "" {
		return req.Cluster.Context
	}
	return "(current context)"
}

// LeftBehind names what lab installed on the adopted cluster, which stays there when
// lab forgets the lab without removing it.
func (p *Provider) LeftBehind(req cluster.Request) string {
	helmFlag, kubectlFlag := "", ""
	if c := req.Cluster.Context; c != "" {
		helmFlag, kubectlFlag = " --kube-context "+c, " --context "+c
	}
	return fmt.Sprintf("what lab installed on context %s: its Helm releases (`helm list -A%s`; `helm uninstall` them) and namespaces (`kubectl%s delete namespace -l %s=%s`)",
		contextName(req), helmFlag, kubectlFlag, kube.LabLabel, req.Name)
}
