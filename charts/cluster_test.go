package charts_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/cloudnativelab/lab/internal/kube"
)

// clusterClients talks to the package's sim cluster: a dynamic client and a REST
// mapper from the API server's discovery, so any kind the charts render can be sent.
type clusterClients struct {
	cfg     *rest.Config
	dynamic dynamic.Interface
	mapper  meta.RESTMapper
}

func clients(t *testing.T) clusterClients {
	t.Helper()
	cfg, err := kube.RESTConfig(shared.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(shared.Client.Discovery()))
	return clusterClients{cfg: cfg, dynamic: dyn, mapper: mapper}
}

// resourceFor returns the client for an object's kind, namespaced or not as the API
// server says.
func (c clusterClients) resourceFor(o *unstructured.Unstructured) (dynamic.ResourceInterface, bool, error) {
	gvk := o.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dynamic.Resource(m.Resource).Namespace(o.GetNamespace()), true, nil
	}
	return c.dynamic.Resource(m.Resource), false, nil
}

// testNamespace creates a real namespace for one test and deletes it (with everything
// in it) afterwards.
func testNamespace(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := shared.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		err := shared.Client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
}

// crdsOnce installs the CRDs of every bundled chart's crds/ directory once for the
// package (see installCRDs).
var crdsOnce = sync.OnceValue(func() error { return createCRDs(context.Background()) })

// installCRDs puts the CRDs of the bundled charts' crds/ directories (delivery's Argo
// Rollouts CRDs) on the sim cluster, as Helm does before a chart's templates, and
// waits until the API server serves their kinds. The CRDs stay for the package's
// other tests: Helm never deletes them either. Call it before clients(t), whose REST
// mapper reads discovery once.
func installCRDs(t *testing.T) {
	t.Helper()
	if err := crdsOnce(); err != nil {
		t.Fatalf("installing the charts' CRDs: %v", err)
	}
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func createCRDs(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cfg, err := kube.RESTConfig(shared.Kubeconfig)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	type served struct{ groupVersion, plural string }
	var want []served
	for _, name := range Names() {
		chrt, err := Load(name)
		if err != nil {
			return err
		}
		for _, f := range chrt.CRDObjects() {
			var crd unstructured.Unstructured
			if err := yaml.Unmarshal(f.File.Data, &crd.Object); err != nil {
				return fmt.Errorf("%s: %w", f.Filename, err)
			}
			if _, err := dyn.Resource(crdResource).Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("creating %s: %w", f.Filename, err)
			}
			group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
			plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
			versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
			for _, v := range versions {
				if m, ok := v.(map[string]any); ok && m["served"] == true {
					want = append(want, served{group + "/" + m["name"].(string), plural})
				}
			}
		}
	}
	// Established, then in discovery: what a REST mapper (Helm's, or clients') reads.
	return wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for _, w := range want {
			list, err := shared.Client.Discovery().ServerResourcesForGroupVersion(w.groupVersion)
			if err != nil {
				return false, nil
			}
			if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == w.plural }) {
				return false, nil
			}
		}
		return true, nil
	})
}

// exclusive serialises, across tests, the creations of a chart whose cluster-scoped
// objects have fixed names: delivery's ClusterAnalysisTemplates are named for the
// demo shop to reference them, so two installs (lite and full) or a dry run next to
// an install would collide.
var exclusive = map[string]*sync.Mutex{"delivery": {}}

// lockChart holds the chart's lock, if it has one, until the test and its cleanups
// (registered after this call) are done.
func lockChart(t *testing.T, name string) {
	t.Helper()
	if mu, ok := exclusive[name]; ok {
		mu.Lock()
		t.Cleanup(mu.Unlock)
	}
}

// TestServerSideDryRun sends every object of every chart, in both profiles, to the sim
// cluster's real kube-apiserver as a create with dryRun=All: the server runs defaulting,
// validation and admission on each (cluster-scoped RBAC objects included, and custom
// resources against the charts' CRDs, installed first) and persists nothing. Each
// chart and profile gets its own real namespace, as the release namespace.
func TestServerSideDryRun(t *testing.T) {
	t.Parallel()
	installCRDs(t)
	c := clients(t)
	for _, name := range Names() {
		for _, profile := range profilesUnderTest {
			t.Run(name+"/"+profile, func(t *testing.T) {
				t.Parallel()
				lockChart(t, name)
				ns := "dryrun-" + name + "-" + profile
				testNamespace(t, ns)
				r := render(t, name, profile, ns, nil)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				kinds := map[string]int{}
				for _, o := range r.objects {
					res, namespaced, err := c.resourceFor(o)
					if err != nil {
						t.Errorf("%s %s: the API server does not serve this kind: %v", o.GetKind(), o.GetName(), err)
						continue
					}
					if namespaced && o.GetNamespace() != ns {
						t.Errorf("%s %s is in namespace %q, not the release namespace %s", o.GetKind(), o.GetName(), o.GetNamespace(), ns)
						continue
					}
					if !namespaced && o.GetNamespace() != "" {
						t.Errorf("cluster-scoped %s %s sets a namespace", o.GetKind(), o.GetName())
					}
					got, err := res.Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
					if err != nil {
						t.Errorf("%s %s rejected by the API server: %v", o.GetKind(), o.GetName(), err)
						continue
					}
					if got.GetUID() == "" {
						t.Errorf("%s %s: the dry-run answer has no uid", o.GetKind(), o.GetName())
					}
					kinds[o.GetKind()]++
				}
				// Nothing was persisted: dry-run really was dry.
				for _, o := range r.objects {
					res, _, err := c.resourceFor(o)
					if err != nil {
						continue
					}
					if _, err := res.Get(ctx, o.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
						t.Errorf("%s %s exists after a dry run (err %v)", o.GetKind(), o.GetName(), err)
					}
				}
				t.Logf("accepted %d objects: %v", len(r.objects), kinds)
			})
		}
	}
}

// TestServerSideDryRunCanFail proves the API server's dry run is a real check: an
// object the charts could plausibly get wrong (a container without an image) is
// rejected.
func TestServerSideDryRunCanFail(t *testing.T) {
	t.Parallel()
	c := clients(t)
	ns := "dryrun-negative"
	testNamespace(t, ns)
	r := render(t, "demo-shop", "lite", ns, nil)
	o := r.find(t, "Deployment", "frontend").DeepCopy()
	containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	delete(containers[0].(map[string]any), "image")
	if err := unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	res, _, err := c.resourceFor(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = res.Create(context.Background(), o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("a Deployment without an image: err %v, want Invalid", err)
	}
}

// TestInstallBecomesReady creates each chart for real on the sim cluster, in each
// profile, in Helm's install order (the charts' CRDs first), and waits until every
// Deployment, StatefulSet and DaemonSet reports all its pods ready: the workloads
// schedule on a two-node cluster with a tainted control plane (node-exporter must run
// on both nodes), a clustered Alertmanager pair comes up, the Argo Rollouts controller
// and dashboard come up with their ClusterAnalysisTemplates accepted, and the readiness
// the installer will wait for is reachable. The sim runs no containers, so this proves
// scheduling and controller wiring, not the processes.
func TestInstallBecomesReady(t *testing.T) {
	t.Parallel()
	installCRDs(t)
	c := clients(t)
	nodes, err := shared.Client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		for _, profile := range profilesUnderTest {
			t.Run(name+"/"+profile, func(t *testing.T) {
				t.Parallel()
				lockChart(t, name)
				ns := "ready-" + name + "-" + profile
				testNamespace(t, ns)
				r := render(t, name, profile, ns, nil)
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
				defer cancel()
				for _, o := range r.objects {
					res, namespaced, err := c.resourceFor(o)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := res.Create(ctx, o, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
						t.Fatalf("creating %s %s: %v", o.GetKind(), o.GetName(), err)
					}
					if !namespaced {
						// The namespace's deletion does not take cluster-scoped objects along.
						t.Cleanup(func() {
							if err := res.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
								t.Errorf("deleting %s %s: %v", o.GetKind(), o.GetName(), err)
							}
						})
					}
				}
				want := r.workloads(t, len(nodes.Items))
				var pending []string
				err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
					pending = pending[:0]
					for _, w := range want {
						ready, desired, err := readiness(ctx, ns, w)
						if err != nil {
							return false, err
						}
						if ready < w.pods || desired != w.pods {
							pending = append(pending, fmt.Sprintf("%s %s %d/%d ready (%d desired)", w.kind, w.name, ready, w.pods, desired))
						}
					}
					return len(pending) == 0, nil
				})
				if err != nil {
					t.Fatalf("not ready: %v; waiting for %s", err, strings.Join(pending, ", "))
				}
				var names []string
				for _, w := range want {
					names = append(names, fmt.Sprintf("%s/%s=%d", w.kind, w.name, w.pods))
				}
				t.Logf("ready: %s", strings.Join(names, " "))
			})
		}
	}
}

// readiness reads a workload's ready and desired pod counts from the API server, the
// way an installer's readiness gate would.
func readiness(ctx context.Context, ns string, w workload) (ready, desired int, err error) {
	apps := shared.Client.AppsV1()
	switch w.kind {
	case "Deployment":
		d, err := apps.Deployments(ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return 0, 0, err
		}
		if d.Status.ObservedGeneration < d.Generation {
			return 0, 0, nil
		}
		return int(min(d.Status.AvailableReplicas, d.Status.UpdatedReplicas)), int(ptrOr(d.Spec.Replicas, 1)), nil
	case "StatefulSet":
		s, err := apps.StatefulSets(ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return 0, 0, err
		}
		return int(s.Status.ReadyReplicas), int(ptrOr(s.Spec.Replicas, 1)), nil
	case "DaemonSet":
		d, err := apps.DaemonSets(ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return 0, 0, err
		}
		return int(d.Status.NumberReady), int(d.Status.DesiredNumberScheduled), nil
	}
	return 0, 0, errors.New("unknown workload kind " + w.kind)
}

// TestGrafanaPasswordKeptAcrossUpgrades renders the grafana-admin Secret with the Helm
// engine connected to the real API server (as an install or upgrade does, where
// lookup works): a first render in an empty namespace generates a password; once that
// Secret exists, the next render (an upgrade) keeps it instead of generating another.
func TestGrafanaPasswordKeptAcrossUpgrades(t *testing.T) {
	t.Parallel()
	c := clients(t)
	ns := "grafana-upgrade"
	testNamespace(t, ns)
	chrt, err := Load("monitoring")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := Profile("monitoring", "lite")
	if err != nil {
		t.Fatal(err)
	}
	renderSecret := func(upgrade bool) *corev1.Secret {
		t.Helper()
		opts := chartutil.ReleaseOptions{Name: "monitoring", Namespace: ns, IsInstall: !upgrade, IsUpgrade: upgrade, Revision: 1}
		caps := chartutil.DefaultCapabilities.Copy()
		caps.KubeVersion = *kubeVersion
		vals, err := chartutil.ToRenderValues(chrt, prof, opts, caps)
		if err != nil {
			t.Fatal(err)
		}
		out, err := engine.New(c.cfg).Render(chrt, vals)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range releaseutil.SplitManifests(out["monitoring/templates/grafana/secret.yaml"]) {
			var s corev1.Secret
			if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			if s.Name == "grafana-admin" {
				return &s
			}
		}
		t.Fatal("no grafana-admin Secret rendered")
		return nil
	}
	first := renderSecret(false)
	password := string(first.Data["admin-password"])
	if len(password) != 24 {
		t.Fatalf("generated password %q", password)
	}
	first.Namespace = ns
	if _, err := shared.Client.CoreV1().Secrets(ns).Create(context.Background(), first, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := string(renderSecret(true).Data["admin-password"]); got != password {
			t.Fatalf("the upgrade rendered password %q, want the installed %q", got, password)
		}
	}
}
