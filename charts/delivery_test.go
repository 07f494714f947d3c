package charts_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	goyaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/cloudnativelab/lab/charts"
	"github.com/cloudnativelab/lab/labs"
)

// argoRolloutsVersion is the Argo Rollouts release the delivery chart ships: its
// appVersion, its images' tag, and the release its crds/ were copied from.
const argoRolloutsVersion = "v1.10.0"

// TestDeliveryCRDs: crds/ holds Argo Rollouts' five CRDs as upstream generates them
// (each file starts as upstream's does, and carries controller-gen's annotation), one
// per upstream file name, and Helm loads exactly those as the chart's CRDs; the chart's
// appVersion and image tags name the same release. crds/README.md says how to refresh
// them.
func TestDeliveryCRDs(t *testing.T) {
	t.Parallel()
	upstreamFiles := map[string]string{ // file -> kind, as in upstream's manifests/crds
		"rollout-crd.yaml":                   "Rollout",
		"analysis-run-crd.yaml":              "AnalysisRun",
		"analysis-template-crd.yaml":         "AnalysisTemplate",
		"cluster-analysis-template-crd.yaml": "ClusterAnalysisTemplate",
		"experiment-crd.yaml":                "Experiment",
	}
	// The first lines of every upstream CRD file, byte for byte.
	const head = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    controller-gen.kubebuilder.io/version: "
	entries, err := fs.ReadDir(charts.FS, "delivery/crds")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	var yamls []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		yamls = append(yamls, name)
		data, err := fs.ReadFile(charts.FS, path.Join("delivery/crds", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), head) {
			t.Errorf("%s does not start as upstream's CRDs do (%q...)", name, head)
		}
		var crd struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind   string `json:"kind"`
					Plural string `json:"plural"`
				} `json:"names"`
				Versions []struct {
					Name    string `json:"name"`
					Served  bool   `json:"served"`
					Storage bool   `json:"storage"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case crd.APIVersion != "apiextensions.k8s.io/v1" || crd.Kind != "CustomResourceDefinition":
			t.Errorf("%s is a %s %s", name, crd.APIVersion, crd.Kind)
		case crd.Spec.Group != "argoproj.io" || crd.Metadata.Name != crd.Spec.Names.Plural+".argoproj.io":
			t.Errorf("%s: group %q, name %q", name, crd.Spec.Group, crd.Metadata.Name)
		case upstreamFiles[name] != crd.Spec.Names.Kind:
			t.Errorf("%s defines %q, upstream's file of that name defines %q", name, crd.Spec.Names.Kind, upstreamFiles[name])
		case len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1alpha1" || !crd.Spec.Versions[0].Served || !crd.Spec.Versions[0].Storage:
			t.Errorf("%s: versions %+v, want v1alpha1 served and stored", name, crd.Spec.Versions)
		}
		kinds[crd.Spec.Names.Kind] = true
	}
	for file, kind := range upstreamFiles {
		if !kinds[kind] {
			t.Errorf("kind %s (upstream's %s) is missing from crds/", kind, file)
		}
	}
	if len(yamls) != len(upstreamFiles) {
		t.Errorf("crds/ has %v, want upstream's five CRD files", yamls)
	}

	chrt, err := Load("delivery")
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	for _, crd := range chrt.CRDObjects() {
		loaded = append(loaded, path.Base(crd.Filename))
	}
	slices.Sort(loaded)
	if slices.Sort(yamls); !slices.Equal(loaded, yamls) {
		t.Errorf("Helm installs the CRDs %v, want %v (crds/README.md must stay out)", loaded, yamls)
	}
	readme, err := fs.ReadFile(charts.FS, "delivery/crds/README.md")
	if err != nil || !strings.Contains(string(readme), "argo-rollouts@"+argoRolloutsVersion) || !strings.Contains(string(readme), "go mod download") {
		t.Errorf("crds/README.md does not say where the CRDs come from and how to refresh them (err %v)", err)
	}

	if chrt.Metadata.AppVersion != argoRolloutsVersion {
		t.Errorf("appVersion %s, want %s", chrt.Metadata.AppVersion, argoRolloutsVersion)
	}
	images, err := Images("delivery")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"quay.io/argoproj/argo-rollouts:" + argoRolloutsVersion, "quay.io/argoproj/kubectl-argo-rollouts:" + argoRolloutsVersion}
	if !slices.Equal(images, want) {
		t.Errorf("images %v, want %v", images, want)
	}
}

// TestDeliveryController: the controller runs one replica under its ServiceAccount
// with the flags v1.10.0 knows (--healthzPort, --metricsPort), ready on /healthz, its
// metrics scraped by the monitoring stack through pod annotations and exposed by the
// Service argo-rollouts-metrics; its ClusterRole (upstream's rules) is bound to it.
func TestDeliveryController(t *testing.T) {
	t.Parallel()
	for _, profile := range profilesUnderTest {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			r := render(t, "delivery", profile, "argo-rollouts", nil)
			w := findWorkload(t, r.workloads(t, 1), "Deployment", "argo-rollouts")
			if w.pods != 1 || w.template.Spec.ServiceAccountName != "argo-rollouts" {
				t.Errorf("%d replicas, service account %q; want 1 and argo-rollouts", w.pods, w.template.Spec.ServiceAccountName)
			}
			c := container(t, w, "argo-rollouts")
			for _, arg := range []string{"--healthzPort=8080", "--metricsPort=8090", "--loglevel=info"} {
				if !slices.Contains(c.Args, arg) {
					t.Errorf("args %v lack %s", c.Args, arg)
				}
			}
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "healthz" {
				t.Errorf("readiness probe %+v, want GET /healthz on port healthz", p)
			}
			ann := w.template.Annotations
			if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != "8090" || ann["prometheus.io/path"] != "/metrics" {
				t.Errorf("scrape annotations %v, want scrape=true port=8090 path=/metrics", ann)
			}
			for name, port := range map[string]int32{"healthz": 8080, "metrics": 8090} {
				if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name && p.ContainerPort == port }) {
					t.Errorf("ports %v: no %s on %d", c.Ports, name, port)
				}
			}
			if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
				t.Errorf("securityContext %+v: want a read-only root", c.SecurityContext)
			}

			role := convert[rbacv1.ClusterRole](t, r.find(t, "ClusterRole", "argo-rollouts-controller"))
			binding := convert[rbacv1.ClusterRoleBinding](t, r.find(t, "ClusterRoleBinding", "argo-rollouts-controller"))
			if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != "argo-rollouts" || binding.Subjects[0].Namespace != "argo-rollouts" {
				t.Errorf("binding %+v does not bind ServiceAccount argo-rollouts/argo-rollouts to %s", binding, role.Name)
			}
			// What the controller cannot work without.
			for _, need := range []struct{ group, resource, verb string }{
				{"argoproj.io", "rollouts", "update"},
				{"argoproj.io", "rollouts/status", "patch"},
				{"argoproj.io", "analysisruns", "create"},
				{"argoproj.io", "clusteranalysistemplates", "list"},
				{"apps", "replicasets", "create"},
				{"", "services", "patch"},
				{"", "pods", "list"},
				{"coordination.k8s.io", "leases", "update"},
				{"", "events", "create"},
			} {
				if !allows(role.Rules, need.group, need.resource, need.verb) {
					t.Errorf("ClusterRole %s does not allow %s on %s.%s", role.Name, need.verb, need.resource, need.group)
				}
			}
		})
	}
}

// allows reports whether a rule grants verb on group/resource.
func allows(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	return slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb)
	})
}

// TestDeliveryDashboard: the dashboard (kubectl-argo-rollouts dashboard on 3100, the
// Service `lab open rollouts` forwards to) comes with its own ServiceAccount and RBAC,
// and dashboard.enabled false leaves all of it out, not the controller.
func TestDeliveryDashboard(t *testing.T) {
	t.Parallel()
	on := render(t, "delivery", "lite", "argo-rollouts", nil)
	off := render(t, "delivery", "lite", "argo-rollouts", values("dashboard.enabled", false))
	w := findWorkload(t, on.workloads(t, 1), "Deployment", "argo-rollouts-dashboard")
	c := container(t, w, "dashboard")
	if !slices.Equal(c.Args, []string{"dashboard"}) || w.template.Spec.ServiceAccountName != "argo-rollouts-dashboard" {
		t.Errorf("dashboard args %v, service account %q", c.Args, w.template.Spec.ServiceAccountName)
	}
	role := convert[rbacv1.ClusterRole](t, on.find(t, "ClusterRole", "argo-rollouts-dashboard"))
	if !allows(role.Rules, "argoproj.io", "rollouts", "patch") {
		t.Errorf("the dashboard cannot patch rollouts (promote, abort): %+v", role.Rules)
	}
	for _, o := range []struct{ kind, name string }{
		{"Deployment", "argo-rollouts-dashboard"}, {"Service", "argo-rollouts-dashboard"}, {"ServiceAccount", "argo-rollouts-dashboard"},
		{"ClusterRole", "argo-rollouts-dashboard"}, {"ClusterRoleBinding", "argo-rollouts-dashboard"},
	} {
		if !on.has(o.kind, o.name) {
			t.Errorf("enabled: no %s %s", o.kind, o.name)
		}
		if off.has(o.kind, o.name) {
			t.Errorf("disabled: %s %s still rendered", o.kind, o.name)
		}
	}
	if !off.has("Deployment", "argo-rollouts") || !off.has("ClusterAnalysisTemplate", "shop-success-rate") {
		t.Error("dashboard.enabled false took the controller or the analysis templates along")
	}
}

// analysisTemplate is the part of a ClusterAnalysisTemplate the tests read.
type analysisTemplate struct {
	Spec struct {
		Args []struct {
			Name  string  `json:"name"`
			Value *string `json:"value"`
		} `json:"args"`
		Metrics []struct {
			Name              string `json:"name"`
			Interval          string `json:"interval"`
			InitialDelay      string `json:"initialDelay"`
			Count             any    `json:"count"`
			FailureLimit      any    `json:"failureLimit"`
			InconclusiveLimit any    `json:"inconclusiveLimit"`
			SuccessCondition  string `json:"successCondition"`
			FailureCondition  string `json:"failureCondition"`
			Provider          struct {
				Prometheus struct {
					Address string `json:"address"`
					Query   string `json:"query"`
				} `json:"prometheus"`
			} `json:"provider"`
		} `json:"metrics"`
	} `json:"spec"`
}

func readAnalysisTemplate(t *testing.T, r *rendering, name string) analysisTemplate {
	t.Helper()
	var at analysisTemplate
	if err := unstructuredInto(r.find(t, "ClusterAnalysisTemplate", name), &at); err != nil {
		t.Fatal(err)
	}
	return at
}

func unstructuredInto(o *unstructured.Unstructured, out any) error {
	data, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	return yaml.Unmarshal(data, out)
}

// argDefaults are the template's args with a default value.
func (at analysisTemplate) argDefaults() map[string]string {
	out := map[string]string{}
	for _, a := range at.Spec.Args {
		if a.Value != nil {
			out[a.Name] = *a.Value
		}
	}
	return out
}

var argRef = regexp.MustCompile(`\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}`)

// resolveArgs substitutes {{args.NAME}} as Argo Rollouts does, failing on an argument
// it is not given.
func resolveArgs(t *testing.T, s string, args map[string]string) string {
	t.Helper()
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		name := argRef.FindStringSubmatch(m)[1]
		v, ok := args[name]
		if !ok {
			t.Fatalf("%q uses args.%s, which is neither passed nor defaulted", s, name)
		}
		return v
	})
}

// TestDeliveryAnalysisTemplates: the two ClusterAnalysisTemplates take the args the
// demo shop's Rollout passes (namespace, app, hash) and default pass and marginal;
// each measures every 20s, 4 times, fails at the first failed measurement and turns
// inconclusive at the third inconclusive one; conditions use only their own args;
// the query is PromQL reading the monitoring stack's Prometheus (or
// analysis.prometheusURL) by the pods' rollouts_pod_template_hash.
func TestDeliveryAnalysisTemplates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, metric   string
		pass, marginal string
		metricName     string
		// extra are the template's own args after pass and marginal, with defaults.
		extra map[string]string
	}{
		{"shop-success-rate", "success-rate", "0.95", "0.90", "http_requests_total", map[string]string{"errors": "5.."}},
		{"shop-latency-p95", "latency-p95", "0.5", "1", "http_request_duration_seconds_bucket", nil},
	}
	def := render(t, "delivery", "lite", "argo-rollouts", nil)
	custom := render(t, "delivery", "full", "argo-rollouts", values("analysis.prometheusURL", "http://prometheus.obs.svc:9090"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := readAnalysisTemplate(t, def, tc.name)
			var names []string
			for _, a := range at.Spec.Args {
				names = append(names, a.Name)
			}
			wantNames := []string{"namespace", "app", "hash", "pass", "marginal"}
			for name := range tc.extra {
				wantNames = append(wantNames, name)
			}
			if !slices.Equal(names, wantNames) {
				t.Errorf("args %v, want %v", names, wantNames)
			}
			defaults := at.argDefaults()
			if len(defaults) != 2+len(tc.extra) || defaults["pass"] != tc.pass || defaults["marginal"] != tc.marginal {
				t.Errorf("defaults %v, want pass %s, marginal %s and %v", defaults, tc.pass, tc.marginal, tc.extra)
			}
			for name, v := range tc.extra {
				if defaults[name] != v {
					t.Errorf("default of arg %s: %q, want %q", name, defaults[name], v)
				}
			}
			if len(at.Spec.Metrics) != 1 {
				t.Fatalf("%d metrics, want 1", len(at.Spec.Metrics))
			}
			m := at.Spec.Metrics[0]
			got := fmt.Sprint(m.Name, " ", m.Interval, " ", m.Count, " ", m.FailureLimit, " ", m.InconclusiveLimit)
			if want := tc.metric + " 20s 4 0 2"; got != want {
				t.Errorf("metric name, interval, count, failureLimit, inconclusiveLimit = %s, want %s", got, want)
			}
			// Two samples of a lite lab's 30s scrapes before the first measurement.
			if m.InitialDelay != "60s" {
				t.Errorf("initialDelay %q, want 60s", m.InitialDelay)
			}
			if m.Provider.Prometheus.Address != "http://prometheus.monitoring.svc:9090" {
				t.Errorf("address %s", m.Provider.Prometheus.Address)
			}
			if got := readAnalysisTemplate(t, custom, tc.name).Spec.Metrics[0].Provider.Prometheus.Address; got != "http://prometheus.obs.svc:9090" {
				t.Errorf("analysis.prometheusURL: address %s", got)
			}
			for _, cond := range []string{m.SuccessCondition, m.FailureCondition} {
				if !strings.HasPrefix(cond, "len(result) > 0 && ") {
					t.Errorf("condition %q is not guarded against an empty result", cond)
				}
			}
			q := m.Provider.Prometheus.Query
			for _, want := range []string{tc.metricName + "{", `namespace="{{args.namespace}}"`, `app="{{args.app}}"`, `rollouts_pod_template_hash="{{args.hash}}"`, "[2m]"} {
				if !strings.Contains(q, want) {
					t.Errorf("query %q lacks %s", q, want)
				}
			}
			args := map[string]string{"namespace": "demo-shop", "app": "backend", "hash": "5d8f7c9b4"}
			for name, v := range tc.extra {
				args[name] = v
			}
			if _, err := promql.ParseExpr(resolveArgs(t, q, args)); err != nil {
				t.Errorf("query is not PromQL once its args are resolved: %v\n%s", err, q)
			}
		})
	}
}

// TestDeliveryAnalysisScoring evaluates the templates' conditions, with their default
// pass and marginal, as Argo Rollouts scores a measurement (a failure condition that
// holds fails it; else a success condition that holds passes it; else it is
// inconclusive): above pass passes, below marginal fails, in between is inconclusive,
// and no data (an empty result or NaN) is inconclusive, never a pass. The conditions
// use the subset of Argo's expression language that Go's syntax shares (len, isNaN,
// indexing, comparisons, && and !), which a small evaluator here runs.
func TestDeliveryAnalysisScoring(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	const pass, fail, inconclusive = "Successful", "Failed", "Inconclusive"
	cases := map[string][]struct {
		result []float64
		want   string
	}{
		"shop-success-rate": { // pass 0.95, marginal 0.90
			{[]float64{1}, pass}, {[]float64{0.95}, pass}, {[]float64{0.92}, inconclusive},
			{[]float64{0.90}, inconclusive}, {[]float64{0.89}, fail}, {[]float64{0.8}, fail}, {[]float64{0}, fail},
			{nil, inconclusive}, {[]float64{nan}, inconclusive},
		},
		"shop-latency-p95": { // pass 0.5s, marginal 1s
			{[]float64{0.01}, pass}, {[]float64{0.5}, pass}, {[]float64{0.7}, inconclusive},
			{[]float64{1}, inconclusive}, {[]float64{1.5}, fail},
			{nil, inconclusive}, {[]float64{nan}, inconclusive},
		},
	}
	r := render(t, "delivery", "lite", "argo-rollouts", nil)
	for name, tcs := range cases {
		at := readAnalysisTemplate(t, r, name)
		m := at.Spec.Metrics[0]
		success := resolveArgs(t, m.SuccessCondition, at.argDefaults())
		failure := resolveArgs(t, m.FailureCondition, at.argDefaults())
		for _, tc := range tcs {
			s, err := evalCondition(success, tc.result)
			if err != nil {
				t.Fatalf("%s: successCondition %q: %v", name, success, err)
			}
			f, err := evalCondition(failure, tc.result)
			if err != nil {
				t.Fatalf("%s: failureCondition %q: %v", name, failure, err)
			}
			got := inconclusive
			switch {
			case f:
				got = fail
			case s:
				got = pass
			}
			if got != tc.want {
				t.Errorf("%s: result %v scores %s, want %s (success %q, failure %q)", name, tc.result, got, tc.want, success, failure)
			}
		}
	}
	// The evaluator is not vacuous: it rejects what it does not know.
	if _, err := evalCondition("result[0] >= asFloat(0.9)", []float64{1}); err == nil {
		t.Error("the condition evaluator accepted an unknown function")
	}
}

// evalCondition evaluates a measurement condition with result bound to a vector
// result, as Argo Rollouts' Prometheus provider binds it ([]float64).
func evalCondition(cond string, result []float64) (bool, error) {
	e, err := parser.ParseExpr(cond)
	if err != nil {
		return false, err
	}
	v, err := evalNode(e, result)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%q is a %T, not a bool", cond, v)
	}
	return b, nil
}

func evalNode(n ast.Expr, result []float64) (any, error) {
	num := func(n ast.Expr) (float64, error) {
		v, err := evalNode(n, result)
		if err != nil {
			return 0, err
		}
		f, ok := v.(float64)
		if !ok {
			return 0, fmt.Errorf("%T is not a number", v)
		}
		return f, nil
	}
	switch n := n.(type) {
	case *ast.ParenExpr:
		return evalNode(n.X, result)
	case *ast.Ident:
		if n.Name == "result" {
			return result, nil
		}
	case *ast.BasicLit:
		if n.Kind == token.INT || n.Kind == token.FLOAT {
			return strconv.ParseFloat(n.Value, 64)
		}
	case *ast.IndexExpr:
		if id, ok := n.X.(*ast.Ident); ok && id.Name == "result" {
			i, err := num(n.Index)
			if err != nil {
				return nil, err
			}
			if int(i) < 0 || int(i) >= len(result) {
				return nil, fmt.Errorf("index %d out of range of %v", int(i), result)
			}
			return result[int(i)], nil
		}
	case *ast.CallExpr:
		if fn, ok := n.Fun.(*ast.Ident); ok && len(n.Args) == 1 {
			switch fn.Name {
			case "len":
				if id, ok := n.Args[0].(*ast.Ident); ok && id.Name == "result" {
					return float64(len(result)), nil
				}
			case "isNaN":
				f, err := num(n.Args[0])
				return math.IsNaN(f), err
			}
		}
	case *ast.UnaryExpr:
		if n.Op == token.NOT {
			v, err := evalNode(n.X, result)
			b, ok := v.(bool)
			if err != nil || !ok {
				return nil, fmt.Errorf("! of %v (%v)", v, err)
			}
			return !b, nil
		}
	case *ast.BinaryExpr:
		if n.Op == token.LAND || n.Op == token.LOR {
			l, err := evalNode(n.X, result)
			lb, ok := l.(bool)
			if err != nil || !ok {
				return nil, fmt.Errorf("%s of %v (%v)", n.Op, l, err)
			}
			if lb == (n.Op == token.LOR) { // short-circuit, as expr does
				return lb, nil
			}
			r, err := evalNode(n.Y, result)
			rb, ok := r.(bool)
			if err != nil || !ok {
				return nil, fmt.Errorf("%s of %v (%v)", n.Op, r, err)
			}
			return rb, nil
		}
		l, err := num(n.X)
		if err != nil {
			return nil, err
		}
		r, err := num(n.Y)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case token.GTR:
			return l > r, nil
		case token.GEQ:
			return l >= r, nil
		case token.LSS:
			return l < r, nil
		case token.LEQ:
			return l <= r, nil
		case token.EQL:
			return l == r, nil
		}
	}
	return nil, fmt.Errorf("unsupported expression %T", n)
}

// TestDeliveryAnalysisQueries runs the templates' queries, args resolved as the demo
// shop's Rollout resolves them, on series shaped like the monitoring stack's scrapes
// of a canary next to its stable version (promtool unit tests): only the canary's
// pods (by rollouts_pod_template_hash) count, the success rate is the share of non-5xx
// answers, the latency the 95th percentile of the histogram, and a hash with no series
// yields no sample at all (which the conditions treat as inconclusive).
func TestDeliveryAnalysisQueries(t *testing.T) {
	t.Parallel()
	r := render(t, "delivery", "lite", "argo-rollouts", nil)
	query := func(name, hash string) string {
		q := readAnalysisTemplate(t, r, name).Spec.Metrics[0].Provider.Prometheus.Query
		q = resolveArgs(t, q, map[string]string{"namespace": "demo-shop", "app": "backend", "hash": hash, "errors": "5.."})
		return strings.Join(strings.Fields(q), " ")
	}
	series := func(metric, labels, values string) map[string]string {
		return map[string]string{"series": metric + "{job=\"kubernetes-pods\", namespace=\"demo-shop\", app=\"backend\", " + labels + "}", "values": values}
	}
	type sample struct {
		Labels string  `json:"labels"`
		Value  float64 `json:"value"`
	}
	test := map[string]any{
		"interval": "15s",
		"input_series": []map[string]string{
			// The canary (hash new): 18 good answers and 2 errors per 15s.
			series("http_requests_total", `pod="backend-new-1", rollouts_pod_template_hash="new", status="200"`, "0+18x40"),
			series("http_requests_total", `pod="backend-new-1", rollouts_pod_template_hash="new", status="500"`, "0+2x40"),
			// The stable version fails a lot, and a Deployment's pod (no hash) too:
			// neither may count for the canary.
			series("http_requests_total", `pod="backend-old-1", rollouts_pod_template_hash="old", status="500"`, "0+50x40"),
			series("http_requests_total", `pod="backend-dep-1", status="503"`, "0+50x40"),
			// Latency of the canary: of 20 answers per 15s, 10 under 0.1s, 18 under
			// 0.5s, all under 1s: the 19th is the 95th percentile, halfway in (0.5, 1].
			series("http_request_duration_seconds_bucket", `pod="backend-new-1", rollouts_pod_template_hash="new", le="0.1"`, "0+10x40"),
			series("http_request_duration_seconds_bucket", `pod="backend-new-1", rollouts_pod_template_hash="new", le="0.5"`, "0+18x40"),
			series("http_request_duration_seconds_bucket", `pod="backend-new-1", rollouts_pod_template_hash="new", le="1"`, "0+20x40"),
			series("http_request_duration_seconds_bucket", `pod="backend-new-1", rollouts_pod_template_hash="new", le="+Inf"`, "0+20x40"),
			series("http_request_duration_seconds_bucket", `pod="backend-old-1", rollouts_pod_template_hash="old", le="1"`, "0+0x40"),
			series("http_request_duration_seconds_bucket", `pod="backend-old-1", rollouts_pod_template_hash="old", le="+Inf"`, "0+20x40"),
		},
		"promql_expr_test": []map[string]any{
			{"expr": "round(" + query("shop-success-rate", "new") + ", 0.001)", "eval_time": "5m", "exp_samples": []sample{{"{}", 0.9}}},
			{"expr": "round(" + query("shop-latency-p95", "new") + ", 0.001)", "eval_time": "5m", "exp_samples": []sample{{"{}", 0.75}}},
			{"expr": query("shop-success-rate", "gone"), "eval_time": "5m", "exp_samples": []sample{}},
			{"expr": query("shop-latency-p95", "gone"), "eval_time": "5m", "exp_samples": []sample{}},
		},
	}
	data, err := yaml.Marshal(map[string]any{"rule_files": []string{}, "tests": []any{test}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "analysis_test.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := runPromtool(t, dir, "test", "rules", "analysis_test.yaml"); !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules did not report SUCCESS:\n%s", out)
	}
}

// TestPrometheusKeepsRolloutHash runs the kubernetes-pods job's relabelling (with
// Prometheus' own relabel package) on the discovery labels of a Rollout's pod and of a
// Deployment's: the first keeps its rollouts-pod-template-hash label as
// rollouts_pod_template_hash, next to namespace and app, the second gets none.
func TestPrometheusKeepsRolloutHash(t *testing.T) {
	t.Parallel()
	r := render(t, "monitoring", "lite", "monitoring", nil)
	cm := convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "prometheus-config"))
	type scrapeConfig struct {
		JobName        string            `yaml:"job_name"`
		RelabelConfigs []*relabel.Config `yaml:"relabel_configs"`
	}
	var cfg struct {
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
	}
	if err := goyaml.Unmarshal([]byte(cm.Data["prometheus.yml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cfg.ScrapeConfigs, func(s scrapeConfig) bool { return s.JobName == "kubernetes-pods" })
	if i < 0 {
		t.Fatal("no kubernetes-pods job")
	}
	rules := cfg.ScrapeConfigs[i].RelabelConfigs
	for _, rc := range rules {
		if err := rc.Validate(model.LegacyValidation); err != nil {
			t.Fatalf("relabel rule %+v: %v", rc, err)
		}
	}
	target := func(podLabels map[string]string) map[string]string {
		meta := map[string]string{
			"__address__":                                             "10.244.1.7:9898",
			"__meta_kubernetes_namespace":                             "demo-shop",
			"__meta_kubernetes_pod_name":                              "backend-7f9c6d5b8-x2x4k",
			"__meta_kubernetes_pod_node_name":                         "lab-worker",
			"__meta_kubernetes_pod_phase":                             "Running",
			"__meta_kubernetes_pod_annotation_prometheus_io_scrape":   "true",
			"__meta_kubernetes_pod_annotation_prometheus_io_port":     "9797",
			"__meta_kubernetes_pod_annotation_prometheus_io_path":     "/metrics",
			"__meta_kubernetes_pod_label_app_kubernetes_io_name":      "backend",
			"__meta_kubernetes_pod_label_app_kubernetes_io_component": "api",
		}
		for k, v := range podLabels {
			meta["__meta_kubernetes_pod_label_"+k] = v
		}
		lb := labels.NewBuilder(labels.FromMap(meta))
		if !relabel.ProcessBuilder(lb, rules...) {
			t.Fatalf("the pod %v was dropped", podLabels)
		}
		out := map[string]string{}
		lb.Labels().Range(func(l labels.Label) {
			if !strings.HasPrefix(l.Name, "__meta_") {
				out[l.Name] = l.Value
			}
		})
		return out
	}
	// Kubernetes' label rollouts-pod-template-hash, as service discovery sanitises it.
	rollout := target(map[string]string{"rollouts_pod_template_hash": "7f9c6d5b8"})
	if rollout["rollouts_pod_template_hash"] != "7f9c6d5b8" || rollout["app"] != "backend" || rollout["namespace"] != "demo-shop" || rollout["__address__"] != "10.244.1.7:9797" {
		t.Errorf("a Rollout's pod is scraped as %v", rollout)
	}
	if dep := target(nil); dep["app"] != "backend" || dep["rollouts_pod_template_hash"] != "" {
		t.Errorf("a Deployment's pod is scraped as %v", dep)
	} else if _, ok := dep["rollouts_pod_template_hash"]; ok {
		t.Errorf("a Deployment's pod gets an empty rollouts_pod_template_hash label: %v", dep)
	}
}

// rolloutCase is the demo shop rendered with its backend as a Rollout.
type rolloutCase struct {
	name      string
	overrides map[string]any
	strategy  string // canary or blueGreen
	analysis  string // "" or the ClusterAnalysisTemplate
}

var rolloutCases = []rolloutCase{
	{"canary", values("backend.rollout.enabled", true), "canary", ""},
	{"canary-analysis", values("backend.rollout.enabled", true, "backend.rollout.analysis", "shop-success-rate"), "canary", "shop-success-rate"},
	{"bluegreen", values("backend.rollout.enabled", true, "backend.rollout.strategy", "blueGreen"), "blueGreen", ""},
	{"bluegreen-analysis", values("backend.rollout.enabled", true, "backend.rollout.strategy", "blueGreen", "backend.rollout.analysis", "shop-latency-p95",
		"backend.rollout.autoPromotionEnabled", true, "backend.rollout.scaleDownDelaySeconds", 60, "backend.version", "v2"), "blueGreen", "shop-latency-p95"},
}

// TestDemoShopRollout: with backend.rollout.enabled the backend is an Argo Rollouts
// Rollout (and no longer a Deployment) with the Deployment's pod template but for its
// version label and message, the strategy asked for (canary steps passed through;
// blueGreen with Service backend active and backend-preview, rendered for blueGreen
// only, as preview), and the analysis asked for with the args the templates take.
// The frontend stays a Deployment, untouched.
func TestDemoShopRollout(t *testing.T) {
	t.Parallel()
	for _, profile := range profilesUnderTest {
		base := render(t, "demo-shop", profile, "demo-shop", nil)
		baseBackend := findWorkload(t, base.workloads(t, 1), "Deployment", "backend")
		baseFrontend := findWorkload(t, base.workloads(t, 1), "Deployment", "frontend")
		for _, tc := range rolloutCases {
			t.Run(profile+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				r := render(t, "demo-shop", profile, "demo-shop", tc.overrides)
				if r.has("Deployment", "backend") {
					t.Error("the backend is still a Deployment")
				}
				ro := r.find(t, "Rollout", "backend")
				if ro.GetAPIVersion() != "argoproj.io/v1alpha1" {
					t.Errorf("Rollout apiVersion %s", ro.GetAPIVersion())
				}
				ws := r.workloads(t, 1)
				w := findWorkload(t, ws, "Rollout", "backend")
				version := "v1"
				if v, ok := tc.overrides["backend"].(map[string]any)["version"].(string); ok {
					version = v
				}

				// The pod template is the Deployment's, with the version's label and message.
				want := baseBackend.template.DeepCopy()
				want.Labels["app.kubernetes.io/version"] = version
				cmd := want.Spec.Containers[0].Command
				cmd[slices.Index(cmd, "--ui-message=demo shop backend")] = "--ui-message=demo shop backend " + version
				if diff := cmpJSON(t, want, w.template); diff != "" {
					t.Errorf("pod template differs from the Deployment's: %s", diff)
				}
				if w.pods != baseBackend.pods || !maps.Equal(w.selector, baseBackend.selector) {
					t.Errorf("%d replicas, selector %v; the Deployment had %d and %v", w.pods, w.selector, baseBackend.pods, baseBackend.selector)
				}
				if ro.GetLabels()["app.kubernetes.io/version"] != version {
					t.Errorf("Rollout labels %v, want version %s", ro.GetLabels(), version)
				}
				if diff := cmpJSON(t, baseFrontend.template, findWorkload(t, ws, "Deployment", "frontend").template); diff != "" {
					t.Errorf("the frontend changed: %s", diff)
				}

				strategy, _, _ := unstructured.NestedMap(ro.Object, "spec", "strategy")
				if len(strategy) != 1 || strategy[tc.strategy] == nil {
					t.Fatalf("strategy %v, want %s only", strategy, tc.strategy)
				}
				s := strategy[tc.strategy].(map[string]any)
				analysisKey := "analysis"
				switch tc.strategy {
				case "canary":
					steps, _ := s["steps"].([]any)
					wantSteps := []any{
						map[string]any{"setWeight": int64(25)}, map[string]any{"pause": map[string]any{}},
						map[string]any{"setWeight": int64(50)}, map[string]any{"pause": map[string]any{"duration": "30s"}},
					}
					if diff := cmpJSON(t, wantSteps, steps); diff != "" {
						t.Errorf("canary steps: %s", diff)
					}
					if r.has("Service", "backend-preview") {
						t.Error("a canary has a preview Service")
					}
				case "blueGreen":
					analysisKey = "postPromotionAnalysis"
					autoPromotion, delay := false, int64(30)
					if tc.analysis != "" {
						autoPromotion, delay = true, 60
					}
					if s["activeService"] != "backend" || s["previewService"] != "backend-preview" || s["autoPromotionEnabled"] != autoPromotion || fmt.Sprint(s["scaleDownDelaySeconds"]) != fmt.Sprint(delay) {
						t.Errorf("blueGreen %v: want active backend, preview backend-preview, autoPromotionEnabled %v, scaleDownDelaySeconds %d", s, autoPromotion, delay)
					}
					active := convert[corev1.Service](t, r.find(t, "Service", "backend"))
					preview := convert[corev1.Service](t, r.find(t, "Service", "backend-preview"))
					if !maps.Equal(active.Spec.Selector, preview.Spec.Selector) || !selects(preview.Spec.Selector, w.template.Labels) {
						t.Errorf("preview selector %v, active %v: both must select the Rollout's pods", preview.Spec.Selector, active.Spec.Selector)
					}
					if diff := cmpJSON(t, active.Spec.Ports, preview.Spec.Ports); diff != "" {
						t.Errorf("preview ports differ from backend's: %s", diff)
					}
				}
				if !r.has("Service", "backend") {
					t.Error("no Service backend")
				}
				a, _ := s[analysisKey].(map[string]any)
				if tc.analysis == "" {
					if len(s) > 0 && (s["analysis"] != nil || s["postPromotionAnalysis"] != nil || s["prePromotionAnalysis"] != nil) {
						t.Errorf("no analysis asked, strategy has %v", s)
					}
					return
				}
				wantAnalysis := map[string]any{
					"templates": []any{map[string]any{"templateName": tc.analysis, "clusterScope": true}},
					"args": []any{
						map[string]any{"name": "namespace", "value": "demo-shop"},
						map[string]any{"name": "app", "value": "backend"},
						map[string]any{"name": "hash", "valueFrom": map[string]any{"podTemplateHashValue": "Latest"}},
					},
				}
				if diff := cmpJSON(t, wantAnalysis, a); diff != "" {
					t.Errorf("%s.%s: %s", tc.strategy, analysisKey, diff)
				}
			})
		}
	}
}

// TestDemoShopDefaultBackend: rollout.enabled false (the default) keeps the backend a
// Deployment labelled with the image's tag, with its plain message and no preview
// Service: backend.version only matters to a Rollout.
func TestDemoShopDefaultBackend(t *testing.T) {
	t.Parallel()
	for _, overrides := range []map[string]any{nil, values("backend.version", "v7", "backend.rollout.strategy", "blueGreen")} {
		r := render(t, "demo-shop", "lite", "demo-shop", overrides)
		w := findWorkload(t, r.workloads(t, 1), "Deployment", "backend")
		if v := w.template.Labels["app.kubernetes.io/version"]; v != "6.9.2" {
			t.Errorf("%v: version label %s, want the image's tag", overrides, v)
		}
		if cmd := container(t, w, "podinfo").Command; !slices.Contains(cmd, "--ui-message=demo shop backend") {
			t.Errorf("%v: command %v", overrides, cmd)
		}
		if r.has("Rollout", "backend") || r.has("Service", "backend-preview") {
			t.Errorf("%v: a Rollout or preview Service without rollout.enabled", overrides)
		}
	}
}

// cmpJSON compares two values by their JSON form, returning both when they differ.
func cmpJSON(t *testing.T, want, got any) string {
	t.Helper()
	w, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	g, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(w) == string(g) {
		return ""
	}
	return fmt.Sprintf("\n--- want\n%s--- got\n%s", w, g)
}

// TestDemoShopRolloutDryRun sends the demo shop with its backend as a Rollout, in
// every strategy case, to the sim cluster's API server as a dry-run create with strict
// field validation: the Rollout is checked against Argo Rollouts' CRD schema (the
// delivery chart's crds/, installed first), so a misspelt strategy field fails here.
func TestDemoShopRolloutDryRun(t *testing.T) {
	t.Parallel()
	installCRDs(t)
	c := clients(t)
	for _, tc := range rolloutCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := "dryrun-rollout-" + tc.name
			testNamespace(t, ns)
			r := render(t, "demo-shop", "full", ns, tc.overrides)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, o := range r.objects {
				res, _, err := c.resourceFor(o)
				if err != nil {
					t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
				}
				if _, err := res.Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
					t.Errorf("%s %s rejected by the API server: %v", o.GetKind(), o.GetName(), err)
				}
			}
		})
	}
	// The CRD's schema has teeth: a strategy field it does not know is refused.
	ns := "dryrun-rollout-negative"
	testNamespace(t, ns)
	o := render(t, "demo-shop", "lite", ns, rolloutCases[0].overrides).find(t, "Rollout", "backend").DeepCopy()
	if err := unstructured.SetNestedField(o.Object, int64(3), "spec", "strategy", "canary", "stepz"); err != nil {
		t.Fatal(err)
	}
	res, _, err := c.resourceFor(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Create(context.Background(), o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err == nil || !strings.Contains(err.Error(), "stepz") {
		t.Fatalf("a Rollout with spec.strategy.canary.stepz: err %v, want it refused", err)
	}
}

// TestFullLabRunsEveryChart: the full lab (labs/full.yaml) lists every bundled chart's
// stack, delivery included; the default lab sticks to monitoring and demo-shop.
func TestFullLabRunsEveryChart(t *testing.T) {
	t.Parallel()
	stacks := func(lab string) []string {
		data, err := fs.ReadFile(labs.FS, lab+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			Spec struct {
				Stacks []string `json:"stacks"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(data, &l); err != nil {
			t.Fatal(err)
		}
		return l.Spec.Stacks
	}
	full := slices.Sorted(slices.Values(stacks("full")))
	if !slices.Equal(full, Names()) {
		t.Errorf("labs/full.yaml runs %v, want every bundled chart %v", full, Names())
	}
	if def := stacks("default"); !slices.Equal(def, defaultLabCharts) {
		t.Errorf("labs/default.yaml runs %v, want %v", def, defaultLabCharts)
	}
}
