package delivery_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// The package shares one sim cluster with lab's delivery stack installed by the
// stack installer (Helm: its CRDs, RBAC, the analysis templates) and the real Argo
// Rollouts controller running against it as a process: kwok turns the pods Ready, so
// every rollout here really progresses, pauses, promotes and aborts, and its analysis
// runs query a real Prometheus that scrapes series the tests write (exporter).
var (
	shared     *testenv.Cluster
	clients    *kube.Clients
	controller *testenv.RolloutsController
	prom       *testenv.Prometheus
	exporter   *testenv.Exporter
)

func TestMain(m *testing.M) { testenv.MainWith(m, setUp) }

func setUp(c *testenv.Cluster) (func(), error) {
	shared = c
	cfg, err := kube.RESTConfig(c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	if clients, err = kube.NewClients(cfg); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "delivery-test")
	if err != nil {
		return nil, err
	}
	exporter = testenv.NewExporter()
	if err := os.MkdirAll(filepath.Join(dir, "prometheus"), 0o755); err != nil {
		return nil, err
	}
	if prom, err = testenv.LaunchPrometheus(ctx, filepath.Join(dir, "prometheus"), testenv.PrometheusConfig{Targets: []string{exporter.Addr}}); err != nil {
		return nil, err
	}
	teardown := func() { prom.Stop(); exporter.Close(); os.RemoveAll(dir) }
	if err := installStack(ctx, c.Kubeconfig, prom.URL); err != nil {
		teardown()
		return nil, err
	}
	if controller, err = testenv.LaunchRolloutsController(ctx, dir, c.KubeconfigPath); err != nil {
		teardown()
		return nil, err
	}
	return func() { controller.Stop(); teardown() }, nil
}

// installStack installs the delivery stack as `lab stacks add delivery` would, its
// analysis templates pointed at the test's Prometheus (the monitoring stack it
// depends on runs no Prometheus on a sim cluster).
func installStack(ctx context.Context, kubeconfig []byte, promURL string) error {
	var s stack.Stack
	for _, st := range stack.Default().Stacks {
		if st.Name == "delivery" {
			s = st
		}
	}
	if s.Name == "" {
		return fmt.Errorf("no delivery stack in the catalog")
	}
	s.DependsOn = nil
	cat := (&stack.Catalog{Bundled: stack.BundledChart, Stacks: []stack.Stack{s}}).WithValues(map[string]map[string]any{
		"delivery": {"analysis": map[string]any{"prometheusURL": promURL, "initialDelay": "2s", "window": "1m"}},
	})
	in, err := stack.NewInstaller(cat, stack.Options{Kubeconfig: kubeconfig, Lab: "delivery-test", Simulated: true})
	if err != nil {
		return err
	}
	if _, err := in.Install(ctx, []string{"delivery"}); err != nil {
		return fmt.Errorf("installing the delivery stack: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// client is lab's delivery client on the shared cluster.
func client() *delivery.Client {
	return &delivery.Client{Dynamic: clients.Dynamic, Kube: clients.Typed}
}

// applyObject server-side applies a YAML object written by a test.
func applyObject(t *testing.T, gvr schema.GroupVersionResource, namespace, manifest string) {
	t.Helper()
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
		t.Fatal(err)
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var res = clients.Dynamic.Resource(gvr).Namespace(namespace)
	if _, err := res.Patch(context.Background(), obj.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: "lab-test", Force: ptr(true)}); err != nil {
		t.Fatalf("applying %s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
}
