package charts_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// TestEveryContainerHasRequestsAndLimits: in both profiles, every container and init
// container of every workload declares cpu and memory requests and limits, and no
// request exceeds its limit (the API server would reject that only at pod creation,
// long after a dry-run of the Deployment passed).
func TestEveryContainerHasRequestsAndLimits(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		for _, profile := range profilesUnderTest {
			t.Run(name+"/"+profile, func(t *testing.T) {
				t.Parallel()
				r := render(t, name, profile, name, nil)
				for _, w := range r.workloads(t, labNodes[profile]) {
					all := append(slices.Clone(w.template.Spec.InitContainers), w.template.Spec.Containers...)
					for _, c := range all {
						for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
							req, okReq := c.Resources.Requests[res]
							lim, okLim := c.Resources.Limits[res]
							if !okReq || req.IsZero() {
								t.Errorf("%s %s, container %s: no %s request", w.kind, w.name, c.Name, res)
							}
							if !okLim || lim.IsZero() {
								t.Errorf("%s %s, container %s: no %s limit", w.kind, w.name, c.Name, res)
							}
							if okReq && okLim && req.Cmp(lim) > 0 {
								t.Errorf("%s %s, container %s: %s request %s above limit %s", w.kind, w.name, c.Name, res, req.String(), lim.String())
							}
						}
					}
				}
			})
		}
	}
}

// TestRecommendedLabels: every object, and every pod template, carries the Kubernetes
// recommended labels, with instance = release, part-of = chart, managed-by = Helm, and
// a version equal to the tag of an image the chart lists.
func TestRecommendedLabels(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		images, err := Images(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, profile := range profilesUnderTest {
			t.Run(name+"/"+profile, func(t *testing.T) {
				t.Parallel()
				// Not the chart's name, to show instance follows the release.
				const release = "lab-release"
				r, err := renderRelease(name, release, profile, name, nil)
				if err != nil {
					t.Fatal(err)
				}
				check := func(what string, labels map[string]string) {
					for _, l := range recommendedLabels {
						if labels[l] == "" {
							t.Errorf("%s: label %s missing", what, l)
						}
					}
					want := map[string]string{
						"app.kubernetes.io/instance":   release,
						"app.kubernetes.io/part-of":    name,
						"app.kubernetes.io/managed-by": "Helm",
					}
					for l, v := range want {
						if labels[l] != v {
							t.Errorf("%s: %s=%q, want %q", what, l, labels[l], v)
						}
					}
					if v := labels["app.kubernetes.io/version"]; !slices.ContainsFunc(images, func(ref string) bool { return strings.HasSuffix(ref, ":"+v) || strings.Contains(ref, ":"+v+"@") }) {
						t.Errorf("%s: version %q is not the tag of any image in %v", what, v, images)
					}
				}
				for _, o := range r.objects {
					check(o.GetKind()+" "+o.GetName(), o.GetLabels())
				}
				for _, w := range r.workloads(t, 1) {
					check(w.kind+" "+w.name+" pod template", w.template.Labels)
					for k, v := range w.selector {
						if w.template.Labels[k] != v {
							t.Errorf("%s %s: selector %s=%s does not match its pod template", w.kind, w.name, k, v)
						}
					}
				}
			})
		}
	}
}

// TestServices: the Services the rest of lab relies on exist with their ports, and
// every Service's selector picks the pods of a rendered workload that declares the
// Service's target port by name.
func TestServices(t *testing.T) {
	t.Parallel()
	cases := []struct {
		chart, service string
		port           int32
	}{
		{"monitoring", "prometheus", 9090},
		{"monitoring", "alertmanager", 9093},
		{"monitoring", "grafana", 3000},
		{"monitoring", "kube-state-metrics", 8080},
		{"monitoring", "node-exporter", 9100},
		{"demo-shop", "frontend", 9898},
		{"demo-shop", "backend", 9898},
		{"demo-shop", "cache", 6379},
		{"delivery", "argo-rollouts-metrics", 8090},
		{"delivery", "argo-rollouts-dashboard", 3100},
	}
	for _, profile := range profilesUnderTest {
		for _, tc := range cases {
			t.Run(profile+"/"+tc.chart+"/"+tc.service, func(t *testing.T) {
				t.Parallel()
				r := render(t, tc.chart, profile, tc.chart, nil)
				svc := convert[corev1.Service](t, r.find(t, "Service", tc.service))
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == tc.port }) {
					t.Errorf("Service %s has ports %v, want %d", tc.service, svc.Spec.Ports, tc.port)
				}
			})
		}
		for _, name := range Names() {
			t.Run(profile+"/"+name+"/selectors", func(t *testing.T) {
				t.Parallel()
				r := render(t, name, profile, name, nil)
				ws := r.workloads(t, 1)
				for _, o := range r.objects {
					if o.GetKind() != "Service" {
						continue
					}
					svc := convert[corev1.Service](t, o)
					var target *workload
					for i, w := range ws {
						if len(svc.Spec.Selector) > 0 && selects(svc.Spec.Selector, w.template.Labels) {
							if target != nil {
								t.Errorf("Service %s selects both %s and %s", svc.Name, target.name, w.name)
							}
							target = &ws[i]
						}
					}
					if target == nil {
						t.Errorf("Service %s selects no workload (selector %v)", svc.Name, svc.Spec.Selector)
						continue
					}
					for _, p := range svc.Spec.Ports {
						if !declaresPort(target.template.Spec.Containers, p.TargetPort, p.Protocol) {
							t.Errorf("Service %s port %s: target port %s (%s) is not declared by %s %s", svc.Name, p.Name, p.TargetPort.String(), p.Protocol, target.kind, target.name)
						}
					}
				}
			})
		}
	}
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func declaresPort(cs []corev1.Container, target intstr.IntOrString, proto corev1.Protocol) bool {
	for _, c := range cs {
		for _, p := range c.Ports {
			if p.Protocol != proto {
				continue
			}
			if (target.Type == intstr.String && p.Name == target.StrVal) || (target.Type == intstr.Int && p.ContainerPort == target.IntVal) {
				return true
			}
		}
	}
	return false
}

// TestDemoShopScrapeAnnotations: every demo-shop tier that serves metrics is annotated
// for Prometheus' kubernetes-pods job, on a port its containers declare; the load
// generator, which serves nothing, is not.
func TestDemoShopScrapeAnnotations(t *testing.T) {
	t.Parallel()
	want := map[string]string{"frontend": "9797", "backend": "9797", "cache": "9121"}
	for _, profile := range profilesUnderTest {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			r := render(t, "demo-shop", profile, "demo-shop", nil)
			for _, w := range r.workloads(t, 1) {
				ann := w.template.Annotations
				port, scraped := want[w.name]
				if !scraped {
					if ann["prometheus.io/scrape"] == "true" {
						t.Errorf("%s is annotated for scraping but serves no metrics", w.name)
					}
					continue
				}
				if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
					t.Errorf("%s: scrape annotations %v, want scrape=true port=%s path=/metrics", w.name, ann, port)
				}
				n, _ := strconv.Atoi(port)
				if !declaresPort(w.template.Spec.Containers, intstr.FromInt32(int32(n)), corev1.ProtocolTCP) {
					t.Errorf("%s: scrape port %s is not a declared container port", w.name, port)
				}
			}
			for _, tier := range []string{"frontend", "backend", "cache", "loadgen"} {
				findWorkload(t, r.workloads(t, 1), "Deployment", tier)
			}
		})
	}
}

// TestDemoShopWiring: frontend calls the backend and the backend uses the cache, at
// addresses that are Services of the chart on the right ports.
func TestDemoShopWiring(t *testing.T) {
	t.Parallel()
	r := render(t, "demo-shop", "lite", "demo-shop", nil)
	ws := r.workloads(t, 1)
	cases := []struct {
		tier, flag, service string
		port                int32
	}{
		{"frontend", "--backend-url=http://backend:9898/api/echo", "backend", 9898},
		{"backend", "--cache-server=tcp://cache:6379", "cache", 6379},
	}
	for _, tc := range cases {
		c := container(t, findWorkload(t, ws, "Deployment", tc.tier), "podinfo")
		if !slices.Contains(c.Command, tc.flag) {
			t.Errorf("%s: command %v lacks %s", tc.tier, c.Command, tc.flag)
		}
		svc := convert[corev1.Service](t, r.find(t, "Service", tc.service))
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == tc.port }) {
			t.Errorf("%s calls %s:%d, but that Service has ports %v", tc.tier, tc.service, tc.port, svc.Spec.Ports)
		}
	}
	lg := container(t, findWorkload(t, ws, "Deployment", "loadgen"), "loadgen")
	script := strings.Join(lg.Command, " ")
	for _, want := range []string{"$FRONTEND_URL/api/echo", "$BACKEND_URL/cache/cart"} {
		if !strings.Contains(script, want) {
			t.Errorf("loadgen script does not call %s", want)
		}
	}
}

// TestDemoShopFaults: the fault values switch podinfo's flags on for the tier they are
// set on, and only then; probe timeouts outlast injected delays.
func TestDemoShopFaults(t *testing.T) {
	t.Parallel()
	faultFlag := regexp.MustCompile(`^--(random-error|random-delay|unready|unhealthy)`)
	cases := []struct {
		name      string
		overrides map[string]any
		want      map[string][]string // tier -> fault flags, exactly
		timeout   map[string]int32    // tier -> probe timeoutSeconds
	}{
		{
			name: "no faults by default",
			want: map[string][]string{"frontend": nil, "backend": nil},
		},
		{
			name:      "backend errors",
			overrides: values("backend.faults.error", true),
			want:      map[string][]string{"frontend": nil, "backend": {"--random-error=true"}},
		},
		{
			name:      "frontend delay in milliseconds",
			overrides: values("frontend.faults.delay", true, "frontend.faults.delayUnit", "ms", "frontend.faults.delayMin", 100, "frontend.faults.delayMax", 800),
			want: map[string][]string{
				"frontend": {"--random-delay=true", "--random-delay-unit=ms", "--random-delay-min=100", "--random-delay-max=800"},
				"backend":  nil,
			},
			timeout: map[string]int32{"frontend": 6},
		},
		{
			name:      "backend delay of up to 10s stretches the probe timeout",
			overrides: values("backend.faults.delay", true, "backend.faults.delayMax", 10),
			want: map[string][]string{
				"frontend": nil,
				"backend":  {"--random-delay=true", "--random-delay-unit=s", "--random-delay-min=0", "--random-delay-max=10"},
			},
			timeout: map[string]int32{"frontend": 6, "backend": 11},
		},
		{
			name:      "unready frontend, unhealthy backend, errors everywhere",
			overrides: values("frontend.faults.unready", true, "frontend.faults.error", true, "backend.faults.unhealthy", true, "backend.faults.error", true),
			want: map[string][]string{
				"frontend": {"--random-error=true", "--unready"},
				"backend":  {"--random-error=true", "--unhealthy"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws := render(t, "demo-shop", "lite", "demo-shop", tc.overrides).workloads(t, 1)
			for tier, want := range tc.want {
				c := container(t, findWorkload(t, ws, "Deployment", tier), "podinfo")
				var got []string
				for _, arg := range c.Command {
					if faultFlag.MatchString(arg) {
						got = append(got, arg)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s fault flags = %v, want %v", tier, got, want)
				}
				if want, ok := tc.timeout[tier]; ok {
					for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
						if p == nil || p.TimeoutSeconds != want {
							t.Errorf("%s probe %+v: timeoutSeconds want %d", tier, p, want)
						}
					}
				}
			}
		})
	}
}

// TestGrafanaAdminSecret: without a cluster to look the Secret up in (lint, template,
// client-only dry-run), each render generates a fresh random password; a password set
// in values is used as is.
func TestGrafanaAdminSecret(t *testing.T) {
	t.Parallel()
	password := func(r *rendering) string {
		t.Helper()
		s := convert[corev1.Secret](t, r.find(t, "Secret", "grafana-admin"))
		if string(s.Data["admin-user"]) != "admin" {
			t.Errorf("admin-user = %q", s.Data["admin-user"])
		}
		return string(s.Data["admin-password"])
	}
	a := password(render(t, "monitoring", "lite", "monitoring", nil))
	b := password(render(t, "monitoring", "lite", "monitoring", nil))
	if !regexp.MustCompile(`^[A-Za-z0-9]{24}$`).MatchString(a) {
		t.Errorf("generated password %q is not 24 alphanumerics", a)
	}
	if a == b {
		t.Errorf("two installs generated the same password %q", a)
	}
	if got := password(render(t, "monitoring", "lite", "monitoring", values("grafana.adminPassword", "s3cret-lab"))); got != "s3cret-lab" {
		t.Errorf("password from values = %q, want s3cret-lab", got)
	}
	// Grafana reads it from that Secret and key.
	d := findWorkload(t, render(t, "monitoring", "lite", "monitoring", nil).workloads(t, 1), "Deployment", "grafana")
	env := container(t, d, "grafana").Env
	i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == "GF_SECURITY_ADMIN_PASSWORD" })
	if i < 0 || env[i].ValueFrom == nil || env[i].ValueFrom.SecretKeyRef == nil ||
		env[i].ValueFrom.SecretKeyRef.Name != "grafana-admin" || env[i].ValueFrom.SecretKeyRef.Key != "admin-password" {
		t.Errorf("Grafana does not take its admin password from grafana-admin/admin-password: %+v", env)
	}
}

// TestSchemaRejectsBadValues: values.schema.json is enforced at render time (as in a
// real install): a misspelt key at the top level or deeper, a wrong type, or a
// container without limits fails with a schema error, while a correct override passes.
func TestSchemaRejectsBadValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		chart     string
		overrides map[string]any
		wantErr   string // substring of the error; empty: must render
	}{
		{"monitoring", values("prometheuss.retention", "1d"), "prometheuss"},
		{"monitoring", values("grafana.anonymousviewer", false), "anonymousviewer"},
		{"monitoring", values("prometheus.replicas", "two"), "replicas"},
		{"monitoring", values("prometheus.retention", "a week"), "retention"},
		{"monitoring", values("alertmanager.webhookURL", "not a url"), "webhookURL"},
		{"monitoring", values("images.grafana.digest", "latest"), "digest"},
		// null deletes a key in Helm's coalescing: a container without limits.
		{"monitoring", values("prometheus.resources.limits", nil), "limits"},
		{"demo-shop", values("cache.exporter.resources.requests.memory", nil), "memory"},
		{"monitoring", values("prometheus.retention", "2d", "alertmanager.webhookURL", "http://sink.lab.svc/x"), ""},
		{"demo-shop", values("frontned.replicas", 2), "frontned"},
		{"demo-shop", values("backend.faults.eror", true), "eror"},
		{"demo-shop", values("backend.faults.delayUnit", "minutes"), "delayUnit"},
		{"demo-shop", values("loadgen.intervalSeconds", 0), "intervalSeconds"},
		{"demo-shop", values("backend.faults.error", true, "frontend.replicas", 2), ""},
		{"demo-shop", values("backend.rollout.enabeld", true), "enabeld"},
		{"demo-shop", values("backend.rollout.strategy", "blue-green"), "strategy"},
		{"demo-shop", values("backend.rollout.analysis", "shop-error-rate"), "analysis"},
		{"demo-shop", values("backend.rollout.canarySteps", []any{map[string]any{"setWeigth": 20}}), "setWeigth"},
		{"demo-shop", values("backend.rollout.canarySteps", []any{map[string]any{"setWeight": 20, "pause": map[string]any{}}}), "canarySteps"},
		{"demo-shop", values("backend.rollout.canarySteps", []any{map[string]any{"setWeight": 120}}), "setWeight"},
		{"demo-shop", values("backend.version", "v 2"), "version"},
		// version and rollout are the backend's: the frontend is a plain Deployment.
		{"demo-shop", values("frontend.rollout.enabled", true), "rollout"},
		{"demo-shop", values("backend.rollout.enabled", true, "backend.rollout.strategy", "blueGreen", "backend.rollout.analysis", "shop-latency-p95", "backend.version", "v2"), ""},
		{"delivery", values("controller.replicas", 2), "replicas"},
		{"delivery", values("dashboard.enabeld", false), "enabeld"},
		{"delivery", values("analysis.prometheusURL", "prometheus:9090"), "prometheusURL"},
		{"delivery", values("controller.logLevel", "verbose"), "logLevel"},
		{"delivery", values("dashboard.resources.limits", nil), "limits"},
		{"delivery", values("dashboard.enabled", false, "analysis.prometheusURL", "http://prometheus.obs.svc:9090"), ""},
	}
	for _, tc := range cases {
		name := tc.wantErr
		if name == "" {
			name = "valid"
		}
		t.Run(tc.chart+"/"+name, func(t *testing.T) {
			t.Parallel()
			_, err := renderErr(tc.chart, "lite", tc.chart, tc.overrides)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid overrides %v rejected: %v", tc.overrides, err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("overrides %v accepted, want a schema error", tc.overrides)
			case tc.wantErr != "" && (!strings.Contains(err.Error(), "schema") || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %q does not name the schema and %q", err, tc.wantErr)
			}
		})
	}
}

// TestProfilesSizeDifferently: full gives Prometheus more memory and retention and
// runs more demo-shop replicas than lite, so the profiles are not copies of each other.
func TestProfilesSizeDifferently(t *testing.T) {
	t.Parallel()
	mem := func(r *rendering, kind, name string) (resource.Quantity, int) {
		w := findWorkload(t, r.workloads(t, 1), kind, name)
		return w.template.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory], w.pods
	}
	for _, tc := range []struct{ chart, kind, name string }{
		{"monitoring", "Deployment", "prometheus"},
		{"monitoring", "StatefulSet", "alertmanager"},
		{"demo-shop", "Deployment", "frontend"},
		{"demo-shop", "Deployment", "backend"},
		{"delivery", "Deployment", "argo-rollouts"},
	} {
		liteMem, litePods := mem(render(t, tc.chart, "lite", tc.chart, nil), tc.kind, tc.name)
		fullMem, fullPods := mem(render(t, tc.chart, "full", tc.chart, nil), tc.kind, tc.name)
		if fullMem.Cmp(liteMem) <= 0 && fullPods <= litePods {
			t.Errorf("%s %s: full (%d x %s) is no bigger than lite (%d x %s)", tc.kind, tc.name, fullPods, fullMem.String(), litePods, liteMem.String())
		}
	}
	retention := func(profile string) string {
		c := container(t, findWorkload(t, render(t, "monitoring", profile, "monitoring", nil).workloads(t, 1), "Deployment", "prometheus"), "prometheus")
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--storage.tsdb.retention.time="); ok {
				return v
			}
		}
		t.Fatalf("%s: prometheus has no retention flag: %v", profile, c.Args)
		return ""
	}
	if l, f := retention("lite"), retention("full"); l != "12h" || f != "7d" {
		t.Errorf("retention lite=%s full=%s, want 12h and 7d", l, f)
	}
}

// TestAlertmanagerConfig: every alert routes to the webhook receiver, whose URL comes
// from values, with resolved notifications on; a clustered pair of replicas names both
// peers and a single replica runs no cluster.
func TestAlertmanagerConfig(t *testing.T) {
	t.Parallel()
	type webhook struct {
		URL          string `json:"url"`
		SendResolved bool   `json:"send_resolved"`
	}
	type receiver struct {
		Name           string    `json:"name"`
		WebhookConfigs []webhook `json:"webhook_configs"`
	}
	type amConfig struct {
		Route struct {
			Receiver string `json:"receiver"`
		} `json:"route"`
		Receivers []receiver `json:"receivers"`
	}
	cases := []struct {
		profile, url string
		overrides    map[string]any
		peers        int
	}{
		{"lite", "http://lab-alert-sink.monitoring.svc:8080/alerts", nil, 0},
		{"full", "http://lab-alert-sink.monitoring.svc:8080/alerts", nil, 2},
		{"lite", "https://hooks.example.com/lab", values("alertmanager.webhookURL", "https://hooks.example.com/lab"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.profile+"/"+tc.url, func(t *testing.T) {
			t.Parallel()
			r := render(t, "monitoring", tc.profile, "monitoring", tc.overrides)
			cm := convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "alertmanager-config"))
			var cfg amConfig
			if err := yaml.Unmarshal([]byte(cm.Data["alertmanager.yml"]), &cfg); err != nil {
				t.Fatalf("alertmanager.yml does not parse: %v", err)
			}
			i := slices.IndexFunc(cfg.Receivers, func(r receiver) bool { return r.Name == cfg.Route.Receiver })
			if i < 0 {
				t.Fatalf("route receiver %q is not defined", cfg.Route.Receiver)
			}
			hooks := cfg.Receivers[i].WebhookConfigs
			if len(hooks) != 1 || hooks[0].URL != tc.url || !hooks[0].SendResolved {
				t.Errorf("webhooks %+v, want one to %s with send_resolved", hooks, tc.url)
			}
			c := container(t, findWorkload(t, r.workloads(t, 1), "StatefulSet", "alertmanager"), "alertmanager")
			peers := 0
			for _, a := range c.Args {
				if strings.HasPrefix(a, "--cluster.peer=") {
					peers++
				}
			}
			if peers != tc.peers || (tc.peers == 0 && !slices.Contains(c.Args, "--cluster.listen-address=")) {
				t.Errorf("args %v: want %d peers (and clustering off with none)", c.Args, tc.peers)
			}
		})
	}
}

// TestNodeExporterOptional: node-exporter can be switched off for clusters that run
// their own; its scrape job goes with it.
func TestNodeExporterOptional(t *testing.T) {
	t.Parallel()
	on := render(t, "monitoring", "lite", "monitoring", nil)
	off := render(t, "monitoring", "lite", "monitoring", values("nodeExporter.enabled", false))
	for _, kind := range []string{"DaemonSet", "Service", "ServiceAccount"} {
		if !on.has(kind, "node-exporter") {
			t.Errorf("enabled: no %s node-exporter", kind)
		}
		if off.has(kind, "node-exporter") {
			t.Errorf("disabled: %s node-exporter still rendered", kind)
		}
	}
	cfg := func(r *rendering) string {
		return convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "prometheus-config")).Data["prometheus.yml"]
	}
	if !strings.Contains(cfg(on), "job_name: node-exporter") || strings.Contains(cfg(off), "job_name: node-exporter") {
		t.Error("the node-exporter scrape job does not follow nodeExporter.enabled")
	}
}
