package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// fieldManager owns the fields scenario actions apply, so server-side apply tells them
// from a trainee's kubectl edits.
const fieldManager = "lab-scenario"

// clients are the API clients of the lab's cluster.
type clients struct{ *kube.Clients }

func newClients(kubeconfig []byte) (*clients, error) {
	cfg, err := kube.RESTConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the lab's kubeconfig: %w", err)
	}
	c, err := kube.NewClients(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{c}, nil
}

// resource finds the API resource of a kind; a kind just created by a CRD is found after
// the mapper's cache is reset once.
func (c *clients) resource(apiVersion, kind, namespace string) (dynamic.ResourceInterface, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: kind}
	mapping, err := c.Mapper.RESTMapping(gk, gv.Version)
	if meta.IsNoMatchError(err) {
		c.Mapper.Reset()
		mapping, err = c.Mapper.RESTMapping(gk, gv.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("the cluster does not know %s %s (is its CRD installed?): %w", apiVersion, kind, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(mapping.Resource).Namespace(namespace), nil
	}
	return c.Dynamic.Resource(mapping.Resource), nil
}

// apply server-side applies one object; one without a namespace goes to namespace.
func (c *clients) apply(ctx context.Context, obj map[string]any, namespace string) (kube.Workload, error) {
	metadata, _ := obj["metadata"].(map[string]any)
	if ns, _ := metadata["namespace"].(string); ns != "" {
		namespace = ns
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	name, _ := metadata["name"].(string)
	client, err := c.resource(apiVersion, kind, namespace)
	if err != nil {
		return kube.Workload{}, err
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return kube.Workload{}, err
	}
	force := true // a trainee's kubectl edits must not make a solution fail
	_, err = client.Patch(ctx, name, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
	if err != nil {
		return kube.Workload{}, fmt.Errorf("applying %s %s: %w", strings.ToLower(kind), name, err)
	}
	return kube.Workload{Kind: kind, Namespace: namespace, Name: name}, nil
}

// deleteObject deletes one object; one that does not exist is fine.
func (c *clients) deleteObject(ctx context.Context, r *spec.ObjectRef) error {
	client, err := c.resource(r.APIVersion, r.Kind, r.Namespace)
	if err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	err = client.Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// ensureNamespace creates the scenario's namespace, after waiting for an old one to go.
func (c *clients) ensureNamespace(ctx context.Context, name, lab string) error {
	return kube.EnsureNamespace(ctx, c.Typed, newNamespace(name, lab), 250*time.Millisecond)
}

// deleteNamespace deletes the namespace and waits until it is gone, so that setup
// starts from nothing.
func (c *clients) deleteNamespace(ctx context.Context, name string) error {
	return kube.DeleteNamespace(ctx, c.Typed, name, 250*time.Millisecond)
}

// newNamespace is a scenario's namespace: lab's (kube.LabelNamespace, so that `lab
// down` of an adopted cluster removes it), the scenario's, and a chaos target, since
// chaos's guard rails protect lab's other namespaces and a scenario's is made to be
// broken.
func newNamespace(name, lab string) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		LabelScenario:         strings.TrimPrefix(name, spec.ScenarioNamespacePrefix),
		kube.ChaosTargetLabel: "true",
	}}}
	kube.LabelNamespace(ns, lab)
	return ns
}

// post sends an HTTP action's request to a Service through the API server's proxy.
func (c *clients) post(ctx context.Context, h *spec.HTTPAction) error {
	service := h.Service
	if h.Port != "" {
		service += ":" + h.Port
	}
	base := strings.TrimRight(c.Config.Host, "/")
	target := fmt.Sprintf("%s/api/v1/namespaces/%s/services/%s/proxy%s", base, url.PathEscape(h.Namespace), url.PathEscape(service), h.Path)
	req, err := http.NewRequestWithContext(ctx, h.Method, target, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s/%s%s answered %s: %s", h.Method, h.Namespace, h.Service, h.Path, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
