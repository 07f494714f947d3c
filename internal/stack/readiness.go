package stack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
)

// object is one Kubernetes object of a release's manifest.
type object struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

func (o object) String() string { return strings.ToLower(o.Kind) + "/" + o.Name }

// manifestObjects lists the objects of a rendered manifest; those without a namespace
// get defaultNamespace unless they are cluster-scoped kinds lab waits for.
func manifestObjects(manifest, defaultNamespace string) []object {
	var out []object
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil || head.Kind == "" {
			continue
		}
		o := object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace}
		if o.Namespace == "" && !clusterScoped[o.Kind] {
			o.Namespace = defaultNamespace
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// clusterScoped are the cluster-scoped kinds charts commonly hold.
var clusterScoped = map[string]bool{
	"CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true, "Namespace": true,
	"PriorityClass": true, "StorageClass": true, "PersistentVolume": true, "IngressClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "APIService": true,
	"ClusterAnalysisTemplate": true, // Argo Rollouts, in the delivery stack
}

// readyChecker answers whether one object is ready, and if not, why (for the diagnosis).
type readyChecker func(ctx context.Context, in *Installer, o object) (ready bool, why string, err error)

// checkers are the kinds whose readiness lab waits for; other objects are ready once
// they exist, which Helm's install already ensured.
var checkers = map[string]readyChecker{
	"Deployment":               rolledOut,
	"StatefulSet":              rolledOut,
	"DaemonSet":                rolledOut,
	"CustomResourceDefinition": crdEstablished,
	"Pod":                      podReady,
}

// waitReady polls the stack's releases until every workload is ready and every CRD is
// Established. On timeout it diagnoses instead of waiting on: which pods are not ready
// and why, recent warning events, and what to do next.
func (in *Installer) waitReady(ctx context.Context, s Stack, releases []string) error {
	objs, err := in.releaseObjects(s, releases)
	if err != nil {
		return err
	}
	timeout := s.timeout()
	if in.opts.Timeout > 0 {
		timeout = in.opts.Timeout
	}
	var (
		notReady []string
		lastErr  error
		checked  bool
	)
	pollErr := wait.PollUntilContextTimeout(ctx, in.opts.PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		nr, err := in.notReady(ctx, objs)
		if err != nil {
			// A failed check (the API server busy, the deadline near) is retried; the
			// last complete one stands.
			lastErr = err
			return false, nil
		}
		notReady, checked = nr, true
		return len(nr) == 0, nil
	})
	if pollErr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !checked {
		return errs.Wrap(errs.Unavailable, lastErr, fmt.Sprintf("checking whether stack %s is ready", s.Name), "")
	}
	// The diagnosis gets its own short deadline: the stack's has passed.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	return in.diagnose(dctx, s, timeout, notReady)
}

// releaseObjects are the objects of the stack's releases, from their stored manifests,
// plus the CRDs of their charts' crds/ directories (Helm installs those apart).
func (in *Installer) releaseObjects(s Stack, releases []string) ([]object, error) {
	cfg, err := in.c.helmConfig(s.Namespace)
	if err != nil {
		return nil, err
	}
	var objs []object
	for _, name := range releases {
		rel, err := lastRelease(cfg, name)
		if err != nil {
			return nil, err
		}
		if rel == nil {
			return nil, fmt.Errorf("release %s is missing", name)
		}
		objs = append(objs, manifestObjects(rel.Manifest, s.Namespace)...)
		objs = append(objs, chartCRDs(rel)...)
	}
	return objs, nil
}

func chartCRDs(rel *release.Release) []object {
	if rel.Chart == nil {
		return nil
	}
	var out []object
	for _, crd := range rel.Chart.CRDObjects() {
		out = append(out, manifestObjects(string(crd.File.Data), "")...)
	}
	return out
}

// notReady lists "kind/name: why" for each object that is not ready yet.
func (in *Installer) notReady(ctx context.Context, objs []object) ([]string, error) {
	var out []string
	for _, o := range objs {
		check, ok := checkers[o.Kind]
		if !ok {
			continue
		}
		ready, why, err := check(ctx, in, o)
		if err != nil {
			return nil, err
		}
		if !ready {
			out = append(out, o.String()+": "+why)
		}
	}
	return out, nil
}

// rolledOut is the readiness of the kinds with a rollout (see kube.RolloutStatus).
func rolledOut(ctx context.Context, in *Installer, o object) (bool, string, error) {
	return kube.RolloutStatus(ctx, in.c.Typed, kube.Workload{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func crdEstablished(ctx context.Context, in *Installer, o object) (bool, string, error) {
	u, err := in.c.Dynamic.Resource(crdResource).Get(ctx, o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, "not created yet", nil
	}
	if err != nil {
		return false, "", err
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true, "", nil
		}
	}
	return false, "not Established yet", nil
}

func podReady(ctx context.Context, in *Installer, o object) (bool, string, error) {
	p, err := in.c.Typed.CoreV1().Pods(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return false, "", err
	}
	if p.Status.Phase == corev1.PodSucceeded || isPodReady(p) {
		return true, "", nil
	}
	return false, string(p.Status.Phase), nil
}

func isPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
