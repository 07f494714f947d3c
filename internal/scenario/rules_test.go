package scenario

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/spec"
)

// TestAlertingSolutionWithPromtool proves on the real rule engine (promtool test rules)
// what a simulated lab cannot: prometheus-alerting's solution rules compute the
// backend's error ratio, its step 1 check accepts that recording rule, and the alert of
// step 2 fires when a tenth of the backend's answers are 5xx, and not without errors.
func TestAlertingSolutionWithPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found on PATH (make testenv installs it): %v", err)
	}
	c, err := Embedded(Validation{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := c.Get("prometheus-alerting")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), solutionRules(t, sc))
	ratioCheck := sc.Spec.Steps[0].Checks[1].PromQL
	alert := sc.Spec.Steps[1].Checks[0].Alert
	tests := strings.NewReplacer(
		"CHECK", strings.Join(strings.Fields(ratioCheck.Query), " ")+" "+ratioCheck.Op+" "+spec.FormatNumber(*ratioCheck.Value),
		"ALERT", alert.Name,
	).Replace(promtoolTests)
	writeFile(t, filepath.Join(dir, "tests.yaml"), tests)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "test", "rules", "tests.yaml")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s\ntests:\n%s", err, out.String(), tests)
	}
}

// solutionRules is the rule file of the last solution's ConfigMap.
func solutionRules(t *testing.T, sc *Scenario) string {
	t.Helper()
	file := sc.Spec.Steps[1].Solve[0].Apply
	data, err := fs.ReadFile(sc.Files, file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := spec.ParseManifests(file, data)
	if err != nil || len(objs) != 1 {
		t.Fatalf("%s: %v", file, err)
	}
	rules, _ := objs[0]["data"].(map[string]any)["shop.yaml"].(string)
	if rules == "" {
		t.Fatalf("%s has no data.shop.yaml", file)
	}
	return rules
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// promtoolTests: the backend answers 9 requests with 200 and 1 with 500 every 15s (a
// ratio of 0.1) while the frontend, which must not count, answers only 200s; then the
// same without errors.
const promtoolTests = `rule_files: [rules.yaml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'http_requests_total{namespace="sc-prometheus-alerting", app="backend", status="200", pod="backend-1"}'
        values: '0+9x40'
      - series: 'http_requests_total{namespace="sc-prometheus-alerting", app="backend", status="500", pod="backend-1"}'
        values: '0+1x40'
      - series: 'http_requests_total{namespace="sc-prometheus-alerting", app="frontend", status="200", pod="frontend-1"}'
        values: '0+100x40'
    promql_expr_test:
      - expr: 'shop:backend_errors:ratio_rate2m'
        eval_time: 5m
        exp_samples: [{labels: 'shop:backend_errors:ratio_rate2m{namespace="sc-prometheus-alerting"}', value: 0.1}]
      - expr: 'CHECK'
        eval_time: 5m
        exp_samples: [{labels: '{}', value: 0}]
    alert_rule_test:
      - eval_time: 1m
        alertname: ALERT
        exp_alerts: []
      - eval_time: 5m
        alertname: ALERT
        exp_alerts:
          - exp_labels: {severity: warning, namespace: sc-prometheus-alerting}
            exp_annotations: {summary: "The shop's backend answers 10% of requests with a server error."}
  - interval: 15s
    input_series:
      - series: 'http_requests_total{namespace="sc-prometheus-alerting", app="backend", status="200", pod="backend-1"}'
        values: '0+10x40'
      - series: 'http_requests_total{namespace="sc-prometheus-alerting", app="backend", status="500", pod="backend-1"}'
        values: '0+0x40'
    alert_rule_test:
      - eval_time: 5m
        alertname: ALERT
        exp_alerts: []
`
