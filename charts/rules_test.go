package charts_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// promtool finds the promtool binary. It is part of the test environment (make
// testenv installs it), so a missing one fails the test rather than skipping it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found on PATH (make testenv installs it): %v", err)
	}
	return p
}

// runPromtool runs promtool with args in dir and fails the test with its output if it
// does not succeed.
func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// renderedRules returns the rules file as deployed: the alerts.yaml key of the
// rendered prometheus-rules ConfigMap.
func renderedRules(t *testing.T, profile string) string {
	t.Helper()
	r := render(t, "monitoring", profile, "monitoring", nil)
	cm := convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "prometheus-rules"))
	rules, ok := cm.Data["alerts.yaml"]
	if !ok || strings.TrimSpace(rules) == "" {
		t.Fatalf("ConfigMap prometheus-rules has no alerts.yaml: keys %v", cm.Data)
	}
	return rules
}

// TestAlertRules runs `promtool check rules` (with every linter, lint problems fatal)
// and `promtool test rules` with monitoring/tests/rules_test.yaml on the rules exactly
// as the chart deploys them, in both profiles.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	tests, err := os.ReadFile(filepath.Join("monitoring", "tests", "rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range profilesUnderTest {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// rules_test.yaml names its rule file alerts.yaml, next to itself.
			if err := os.WriteFile(filepath.Join(dir, "alerts.yaml"), []byte(renderedRules(t, profile)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "rules_test.yaml"), tests, 0o644); err != nil {
				t.Fatal(err)
			}
			out := runPromtool(t, dir, "check", "rules", "--lint=all", "--lint-fatal", "alerts.yaml")
			t.Log(strings.TrimSpace(out))
			out = runPromtool(t, dir, "test", "rules", "rules_test.yaml")
			if !strings.Contains(out, "SUCCESS") {
				t.Fatalf("promtool test rules did not report SUCCESS:\n%s", out)
			}
		})
	}
}

// TestAlertRulesTestsCanFail proves TestAlertRules' unit tests have teeth: with the
// HighHTTPErrorRatio threshold raised and a "for" duration dropped, promtool reports
// failures.
func TestAlertRulesTestsCanFail(t *testing.T) {
	t.Parallel()
	tests, err := os.ReadFile(filepath.Join("monitoring", "tests", "rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules := renderedRules(t, "lite")
	for _, mutation := range []struct{ from, to string }{
		{"> 0.05", "> 0.5"},
		{"for: 3m", "for: 0m"},
		{`[5m]) >= 1`, `[5m]) >= 2`},
	} {
		t.Run(mutation.to, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(rules, mutation.from) {
				t.Fatalf("rules do not contain %q", mutation.from)
			}
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "alerts.yaml"), []byte(strings.ReplaceAll(rules, mutation.from, mutation.to)), 0o644)
			os.WriteFile(filepath.Join(dir, "rules_test.yaml"), tests, 0o644)
			cmd := exec.Command(promtool(t), "test", "rules", "rules_test.yaml")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("the unit tests pass with %q replaced by %q:\n%s", mutation.from, mutation.to, out)
			}
		})
	}
}

// ruleFile is the part of a Prometheus rules file the coverage test reads.
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert string `json:"alert"`
		} `json:"rules"`
	} `json:"groups"`
}

// unitTests is the part of promtool's unit test file the coverage test reads.
type unitTests struct {
	RuleFiles []string `json:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestAlertRulesCoverage: the alerts exist, the deployed rules are the
// repository's rules/alerts.yaml verbatim, and every alert has unit tests both where it
// fires and where it must stay silent.
func TestAlertRulesCoverage(t *testing.T) {
	t.Parallel()
	deployed := renderedRules(t, "lite")
	source, err := os.ReadFile(filepath.Join("monitoring", "rules", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(deployed) != strings.TrimSpace(string(source)) {
		t.Error("the deployed rules differ from monitoring/rules/alerts.yaml")
	}
	var rf ruleFile
	if err := yaml.Unmarshal([]byte(deployed), &rf); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r.Alert)
			}
		}
	}
	sort.Strings(alerts)
	for _, want := range []string{"KubePodCrashLooping", "KubeDeploymentReplicasUnavailable", "HighHTTPErrorRatio", "TargetDown"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alert %s missing (have %v)", want, alerts)
		}
	}

	data, err := os.ReadFile(filepath.Join("monitoring", "tests", "rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ut unitTests
	if err := yaml.Unmarshal(data, &ut); err != nil {
		t.Fatal(err)
	}
	if len(ut.RuleFiles) != 1 || path.Base(ut.RuleFiles[0]) != "alerts.yaml" {
		t.Errorf("rules_test.yaml tests %v, want alerts.yaml (the ConfigMap key)", ut.RuleFiles)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range ut.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("no unit test where %s fires", a)
		}
		if !silent[a] {
			t.Errorf("no unit test where %s stays silent", a)
		}
	}
	t.Logf("alerts with firing and silent unit tests: %v", alerts)
}

// TestPrometheusConfig runs `promtool check config --syntax-only` on the rendered
// prometheus.yml (syntax-only: the service-account token and rule files it names exist
// only in the pod) and checks the scrape jobs the issue asks for, their Kubernetes
// service-discovery roles, and that the files the config names are where the
// Deployment mounts them.
//
// Debian's promtool is built without Kubernetes service discovery and rejects
// kubernetes_sd_configs as an unknown field. So the test checks those blocks itself
// (role and namespaces) and hands promtool a copy where each is replaced by a static
// target: promtool still validates everything else, relabelling included.
func TestPrometheusConfig(t *testing.T) {
	t.Parallel()
	for _, profile := range profilesUnderTest {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			r := render(t, "monitoring", profile, "monitoring", nil)
			cm := convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "prometheus-config"))
			var cfg map[string]any
			if err := yaml.Unmarshal([]byte(cm.Data["prometheus.yml"]), &cfg); err != nil {
				t.Fatalf("prometheus.yml: %v", err)
			}

			// roles of the Kubernetes SD blocks of a scrape or alertmanager config, which
			// are then swapped for a static target.
			sdRoles := func(where string, c map[string]any) []string {
				sds, _ := c["kubernetes_sd_configs"].([]any)
				var roles []string
				for _, sd := range sds {
					m, _ := sd.(map[string]any)
					role, _ := m["role"].(string)
					if !slices.Contains([]string{"node", "pod", "service", "endpoints", "endpointslice", "ingress"}, role) {
						t.Errorf("%s: kubernetes_sd_configs role %q is not a Prometheus role", where, role)
					}
					if ns, ok := m["namespaces"].(map[string]any); ok {
						if names, _ := ns["names"].([]any); len(names) == 0 {
							t.Errorf("%s: namespaces without names", where)
						}
					}
					roles = append(roles, role)
				}
				if len(sds) > 0 {
					delete(c, "kubernetes_sd_configs")
					c["static_configs"] = []any{map[string]any{"targets": []any{"sd-placeholder:80"}}}
				}
				return roles
			}
			jobs := map[string]string{}
			scrapes, _ := cfg["scrape_configs"].([]any)
			for _, s := range scrapes {
				m, _ := s.(map[string]any)
				job, _ := m["job_name"].(string)
				jobs[job] = strings.Join(sdRoles("job "+job, m), ",")
			}
			alerting, _ := cfg["alerting"].(map[string]any)
			ams, _ := alerting["alertmanagers"].([]any)
			if len(ams) != 1 {
				t.Errorf("%d alertmanager configs, want 1", len(ams))
			}
			for _, am := range ams {
				m, _ := am.(map[string]any)
				if roles := sdRoles("alertmanagers", m); !slices.Equal(roles, []string{"pod"}) {
					t.Errorf("alertmanagers discovered by %v, want pod", roles)
				}
			}
			want := map[string]string{
				"prometheus":            "",
				"kubernetes-apiservers": "endpointslice",
				"kubernetes-nodes":      "node",
				"kubernetes-cadvisor":   "node",
				"kubernetes-pods":       "pod",
				"kube-state-metrics":    "endpointslice",
				"node-exporter":         "endpointslice",
			}
			for job, role := range want {
				if got, ok := jobs[job]; !ok || got != role {
					t.Errorf("scrape job %s: role %q (present %v), want %q", job, got, ok, role)
				}
			}

			static, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), static, 0o644); err != nil {
				t.Fatal(err)
			}
			runPromtool(t, dir, "check", "config", "--syntax-only", "prometheus.yml")

			c := container(t, findWorkload(t, r.workloads(t, 1), "Deployment", "prometheus"), "prometheus")
			mounted := func(file string) bool {
				return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return path.Dir(file) == m.MountPath })
			}
			if !slices.Contains(c.Args, "--config.file=/etc/prometheus/config/prometheus.yml") || !mounted("/etc/prometheus/config/prometheus.yml") {
				t.Errorf("prometheus.yml is not mounted where --config.file points: args %v", c.Args)
			}
			ruleFiles, _ := cfg["rule_files"].([]any)
			if len(ruleFiles) == 0 {
				t.Error("no rule_files")
			}
			for _, f := range ruleFiles {
				if f, _ := f.(string); !mounted(f) {
					t.Errorf("rule files %s: nothing is mounted at %s", f, path.Dir(f))
				}
			}
		})
	}
}

// TestPrometheusConfigCheckCanFail proves promtool's check above rejects a broken
// config: a relabelling regex that does not compile.
func TestPrometheusConfigCheckCanFail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := "scrape_configs:\n  - job_name: x\n    static_configs: [{targets: [a:1]}]\n    relabel_configs:\n      - source_labels: [a]\n        regex: '(unclosed'\n        target_label: b\n"
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "check", "config", "--syntax-only", "prometheus.yml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "regexp") {
		t.Fatalf("promtool did not reject the invalid regex (err %v):\n%s", err, out)
	}
}
