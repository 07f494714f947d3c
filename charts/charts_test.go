package charts_test

import (
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/cloudnativelab/lab/internal/testenv"
)

// shared is the package's real sim cluster (kube-apiserver, etcd, controller-manager,
// scheduler, kwok with two nodes), started once for all tests.
var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

// kubeVersion is the Kubernetes version client-only renders assume: the sim cluster's
// and the default lab's. Helm's own default (v1.20) is older than the charts'
// kubeVersion constraint.
var kubeVersion = &chartutil.KubeVersion{Version: "v1.36.0", Major: "1", Minor: "36"}

// profilesUnderTest are the profiles every chart must have and render in.
var profilesUnderTest = []string{"lite", "full"}

// labNodes is how many nodes the labs that use each profile have (labs/default.yaml
// and labs/full.yaml): a DaemonSet runs one pod per node.
var labNodes = map[string]int{"lite": 2, "full": 3}

// recommendedLabels are the Kubernetes recommended labels every object carries.
var recommendedLabels = []string{
	"app.kubernetes.io/name",
	"app.kubernetes.io/instance",
	"app.kubernetes.io/version",
	"app.kubernetes.io/component",
	"app.kubernetes.io/part-of",
	"app.kubernetes.io/managed-by",
}

// values builds a nested values map from dotted paths: values("a.b", 1) is {a: {b: 1}}.
func values(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		keys := strings.Split(kv[i].(string), ".")
		m := out
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = kv[i+1]
	}
	return out
}

// merge returns base with over merged in, recursively; over wins. This is how the
// installer layers values: chart values.yaml < profile < user overrides.
func merge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = merge(bm, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// rendering is one chart rendered client-side, as `helm template` would.
type rendering struct {
	chart, profile, namespace string
	objects                   []*unstructured.Unstructured
}

// renderErr renders a bundled chart (loaded from FS, as the installer will) with a
// profile and overrides, in a namespace, with the Helm SDK's client-only dry-run
// install, as release name (the chart's name, as lab installs it). Values go through
// the chart's schema, as in a real install.
func renderErr(name, profile, namespace string, overrides map[string]any) (*rendering, error) {
	return renderRelease(name, name, profile, namespace, overrides)
}

// renderRelease is renderErr with another release name.
func renderRelease(name, release, profile, namespace string, overrides map[string]any) (*rendering, error) {
	chrt, err := Load(name)
	if err != nil {
		return nil, err
	}
	prof, err := Profile(name, profile)
	if err != nil {
		return nil, err
	}
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...any) {},
	}
	install := action.NewInstall(cfg)
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = release
	install.Namespace = namespace
	install.KubeVersion = kubeVersion
	rel, err := install.Run(chrt, merge(prof, overrides))
	if err != nil {
		return nil, err
	}
	if len(rel.Hooks) > 0 {
		// Hooks are applied outside the release's normal ordering and readiness; the
		// bundled charts have none, and tests below would miss them.
		return nil, fmt.Errorf("chart %s renders %d hooks; the bundled charts must not use hooks", name, len(rel.Hooks))
	}
	r := &rendering{chart: name, profile: profile, namespace: namespace}
	manifests := releaseutil.SplitManifests(rel.Manifest)
	keys := make([]string, 0, len(manifests))
	for k := range manifests {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	for _, k := range keys {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(manifests[k]), &obj); err != nil {
			return nil, fmt.Errorf("chart %s: rendered YAML does not parse: %w\n%s", name, err, manifests[k])
		}
		if len(obj) == 0 {
			continue
		}
		r.objects = append(r.objects, &unstructured.Unstructured{Object: obj})
	}
	return r, nil
}

// render is renderErr failing the test on error.
func render(t *testing.T, name, profile, namespace string, overrides map[string]any) *rendering {
	t.Helper()
	r, err := renderErr(name, profile, namespace, overrides)
	if err != nil {
		t.Fatalf("rendering %s (%s): %v", name, profile, err)
	}
	if len(r.objects) == 0 {
		t.Fatalf("rendering %s (%s): no objects", name, profile)
	}
	return r
}

// find returns the rendered object of a kind and name, failing the test if missing.
func (r *rendering) find(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("%s (%s): no %s %q rendered", r.chart, r.profile, kind, name)
	return nil
}

// has reports whether an object of that kind and name was rendered.
func (r *rendering) has(kind, name string) bool {
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			return true
		}
	}
	return false
}

// convert turns a rendered object into its typed form (Deployment, Service, ...),
// failing on fields the type does not know: a misspelt field in a template would
// otherwise be dropped silently by the API server's decoder in a real install too.
func convert[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, out, true); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return out
}

// workload is a rendered pod controller with the number of pods it runs.
type workload struct {
	kind, name string
	pods       int // replicas, or one per node for a DaemonSet
	template   corev1.PodTemplateSpec
	selector   map[string]string
}

// workloads returns every Deployment, StatefulSet, DaemonSet and Argo Rollouts Rollout
// rendered, assuming nodes nodes for DaemonSets.
func (r *rendering) workloads(t *testing.T, nodes int) []workload {
	t.Helper()
	var out []workload
	for _, o := range r.objects {
		switch o.GetKind() {
		case "Deployment":
			d := convert[appsv1.Deployment](t, o)
			out = append(out, workload{"Deployment", d.Name, int(ptrOr(d.Spec.Replicas, 1)), d.Spec.Template, d.Spec.Selector.MatchLabels})
		case "StatefulSet":
			s := convert[appsv1.StatefulSet](t, o)
			out = append(out, workload{"StatefulSet", s.Name, int(ptrOr(s.Spec.Replicas, 1)), s.Spec.Template, s.Spec.Selector.MatchLabels})
		case "DaemonSet":
			d := convert[appsv1.DaemonSet](t, o)
			out = append(out, workload{"DaemonSet", d.Name, nodes, d.Spec.Template, d.Spec.Selector.MatchLabels})
		case "Rollout":
			// Argo Rollouts' Rollout has a Deployment's replicas, selector and pod
			// template (its strategy differs, and is checked where it matters).
			ro := convert[rolloutWorkload](t, o)
			out = append(out, workload{"Rollout", o.GetName(), int(ptrOr(ro.Spec.Replicas, 1)), ro.Spec.Template, ro.Spec.Selector.MatchLabels})
		case "Pod", "ReplicaSet", "Job", "CronJob", "ReplicationController":
			// Bare pods and these controllers would escape the resource and readiness
			// checks below; the bundled charts use none of them.
			t.Fatalf("%s (%s): unexpected %s %s", r.chart, r.profile, o.GetKind(), o.GetName())
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s (%s): no workloads rendered", r.chart, r.profile)
	}
	return out
}

// rolloutWorkload is the part of an Argo Rollouts Rollout that runs pods, in typed form
// (the pod template is checked as strictly as a Deployment's); Strategy is decoded
// loosely, tests read it from the unstructured object.
type rolloutWorkload struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Replicas *int32                 `json:"replicas"`
		Selector metav1.LabelSelector   `json:"selector"`
		Template corev1.PodTemplateSpec `json:"template"`
		Strategy map[string]any         `json:"strategy"`
	} `json:"spec"`
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// container returns the named container of a pod template, failing if missing.
func container(t *testing.T, w workload, name string) corev1.Container {
	t.Helper()
	for _, c := range w.template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s %s has no container %q", w.kind, w.name, name)
	return corev1.Container{}
}

// findWorkload returns the named workload, failing if missing.
func findWorkload(t *testing.T, ws []workload, kind, name string) workload {
	t.Helper()
	for _, w := range ws {
		if w.kind == kind && w.name == name {
			return w
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return workload{}
}
