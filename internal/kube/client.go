package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfig builds a client configuration from kubeconfig bytes (its current context).
func RESTConfig(kubeconfig []byte) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// Clientset builds a typed client from kubeconfig bytes.
func Clientset(kubeconfig []byte) (kubernetes.Interface, error) {
	cfg, err := RESTConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// ServerReady asks the API server's /readyz, which fails until it reaches etcd and its
// caches are filled; the error carries the checks that failed.
func ServerReady(ctx context.Context, cs kubernetes.Interface) error {
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil && len(body) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(body)))
	}
	return err
}

// Ping is ServerVersion for a kubeconfig, waiting at most five seconds: whether the
// cluster of an adopted context or of a Terraform state answers.
func Ping(ctx context.Context, kubeconfig []byte) (string, error) {
	cs, err := Clientset(kubeconfig)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ServerVersion(ctx, cs)
}

// ServerVersion asks the API server for its version: the cheapest "does it answer".
func ServerVersion(ctx context.Context, cs kubernetes.Interface) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := cs.Discovery().ServerVersion()
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- result{v: v.GitVersion}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// NodeSummary counts nodes and how many are Ready.
type NodeSummary struct {
	Total    int      `json:"total"`
	Ready    int      `json:"ready"`
	NotReady []string `json:"notReady,omitempty"`
}

// Nodes summarises the cluster's nodes.
func Nodes(ctx context.Context, cs kubernetes.Interface) (NodeSummary, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return NodeSummary{}, err
	}
	var s NodeSummary
	for _, n := range list.Items {
		s.Total++
		if NodeReady(&n) {
			s.Ready++
		} else {
			s.NotReady = append(s.NotReady, n.Name)
		}
	}
	return s, nil
}

// NodeReady reports the node's Ready condition.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitNodesReady polls until want nodes exist and all are Ready, or timeout. The error
// names the nodes that are not Ready, which is what a user needs to look at.
func WaitNodesReady(ctx context.Context, cs kubernetes.Interface, want int, timeout time.Duration) error {
	var last NodeSummary
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last, lastErr = Nodes(ctx, cs)
		return lastErr == nil && last.Total >= want && last.Ready == last.Total, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if lastErr != nil {
		return fmt.Errorf("nodes not ready after %s: %w", timeout, lastErr)
	}
	return fmt.Errorf("nodes not ready after %s: %d of %d wanted are Ready (not ready: %v)", timeout, last.Ready, want, last.NotReady)
}
