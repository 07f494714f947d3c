package grade_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// runLab runs the CLI in-process with the given environment.
func runLab(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return testenv.RunCLI(t, app.Run, env, args...)
}

func writeChecks(t *testing.T, checks string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "checks.yaml")
	doc := "apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Checks\nmetadata: {name: cli}\nspec:\n  checks:\n" + checks
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInvalidInput(t *testing.T) {
	good := writeChecks(t, "    - {id: up, promql: {query: up, nonempty: true}}\n")
	bad := writeChecks(t, "    - id: broken\n      promql: {query: 'sum(up', nonempty: true}\n")
	am := writeChecks(t, "    - {id: silenced, alert: {name: X, source: alertmanager, state: suppressed}}\n")
	pending := writeChecks(t, "    - id: pending\n      alert: {name: X, source: alertmanager, state: pending}\n")
	cases := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"a PromQL error names file, line and column", []string{"grade", bad}, []string{bad + ":7: spec.checks[0].promql.query: PromQL parse error at the end of the expression (column 7): unclosed left parenthesis"}},
		{"a missing file", []string{"grade", "missing/checks.yaml"}, []string{"checks file missing/checks.yaml does not exist"}},
		{"a scenario name", []string{"grade", "prometheus-alerting"}, []string{"lab grade does not take scenario names"}},
		{"--step needs a scenario", []string{"grade", good, "--step", "2"}, []string{"--step needs a scenario"}},
		{"an unknown format", []string{"grade", good, "-o", "xml"}, []string{`unknown report format "xml"`, "junit, markdown"}},
		{"--watch with another format", []string{"grade", good, "--watch", "-o", "json"}, []string{"--watch redraws a table"}},
		{"a bad Prometheus URL", []string{"grade", good, "--prometheus-url", "localhost:9090"}, []string{`invalid --prometheus-url "localhost:9090"`}},
		{"no argument", []string{"grade"}, []string{"takes one checks file"}},
		{"an unknown lab", []string{"grade", good, "--name", "no-such-lab"}, []string{`no lab named "no-such-lab"`}},
		{"a bad Alertmanager URL", []string{"grade", am, "--alertmanager-url", "localhost:9093"}, []string{`invalid --alertmanager-url "localhost:9093"`}},
		{"pending from Alertmanager", []string{"grade", pending}, []string{pending + ":7: spec.checks[0].alert.state: pending is a state only Prometheus knows"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ExpectExit(t, app.Run, tc.args, errs.ExitInvalid, tc.stderr...)
		})
	}
}

// TestAlertmanagerURL grades against a real Alertmanager given on the command line:
// it holds no alerts, so the alert is inactive and firing is not.
func TestAlertmanagerURL(t *testing.T) {
	am := testenv.StartAlertmanager(t)
	file := writeChecks(t, "    - {id: quiet, alert: {name: Nothing, source: alertmanager, state: inactive}}\n"+
		"    - {id: loud, severity: warning, timeout: 1s, alert: {name: Nothing, source: alertmanager}}\n")
	code, stdout, stderr := runLab(t, testenv.PrivateEnv(t), "grade", file, "--alertmanager-url", am.URL, "-o", "json")
	if code != errs.ExitOK {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(rep.Checks) != 2 || rep.Checks[0].Outcome != "pass" || rep.Checks[1].Outcome != "fail" ||
		rep.Checks[1].Evidence.Query != "alert Nothing in Alertmanager" {
		t.Fatalf("report = %+v", rep.Checks)
	}
}

// jsonReport is the stable JSON schema, as scripts read it.
type jsonReport struct {
	Checks []struct {
		ID         string   `json:"id"`
		Outcome    string   `json:"outcome"`
		Points     int      `json:"points"`
		Awarded    int      `json:"awarded"`
		DurationMs *float64 `json:"durationMs"`
		Evidence   struct {
			Query    string `json:"query"`
			Expected string `json:"expected"`
			Actual   string `json:"actual"`
		} `json:"evidence"`
		Hint string `json:"hint"`
	} `json:"checks"`
	Score struct {
		Awarded int     `json:"awarded"`
		Total   int     `json:"total"`
		Percent float64 `json:"percent"`
	} `json:"score"`
}

// TestGradeAgainstPrometheus runs `lab grade --prometheus-url` against a real
// Prometheus: exit codes 0, 3 and 4, the JSON schema, JUnit written with --out while the
// table goes to stdout, and --watch returning once the checks pass.
func TestGradeAgainstPrometheus(t *testing.T) {
	exporter := testenv.StartExporter(t)
	exporter.Set("cli_value", 1)
	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Targets: []string{exporter.Addr}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := prom.WaitForTargets(ctx); err != nil {
		t.Fatal(err)
	}
	url := prom.URL
	pass := `    - {id: value-is-one, points: 3, timeout: 10s, interval: 250ms, promql: {query: cli_value, op: "==", value: 1}}` + "\n"
	fail := `    - {id: value-is-two, timeout: 1s, interval: 250ms, hints: ["Set it to two"], promql: {query: cli_value, op: "==", value: 2}}` + "\n"
	noData := `    - {id: no-data, timeout: 1s, interval: 250ms, promql: {query: nothing_here, op: ">", value: 0}}` + "\n"
	env := testenv.PrivateEnv(t)

	t.Run("all pass", func(t *testing.T) {
		code, stdout, stderr := runLab(t, env, "grade", writeChecks(t, pass), "--prometheus-url", url)
		if code != errs.ExitOK || !strings.Contains(stdout, "Score: 3/3 (100%)") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
	t.Run("a failure exits 3 with evidence and hint in JSON", func(t *testing.T) {
		code, stdout, stderr := runLab(t, env, "grade", writeChecks(t, pass+fail), "--prometheus-url", url, "-o", "json")
		if code != errs.ExitChecksFailed {
			t.Fatalf("exit %d, want 3; stderr:\n%s", code, stderr)
		}
		var r jsonReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
		}
		failed := r.Checks[1]
		if failed.Outcome != "fail" || !strings.Contains(failed.Evidence.Actual, "} = 1") || failed.Hint != "Set it to two" ||
			failed.Evidence.Query != "cli_value" || failed.DurationMs == nil {
			t.Errorf("failed check: %+v", failed)
		}
		if r.Score.Awarded != 3 || r.Score.Total != 4 || r.Score.Percent != 75 {
			t.Errorf("score: %+v", r.Score)
		}
	})
	t.Run("no data exits 4 even next to a failure", func(t *testing.T) {
		code, _, stderr := runLab(t, env, "grade", writeChecks(t, fail+noData), "--prometheus-url", url)
		if code != errs.ExitChecksErrored || !strings.Contains(stderr, "1 check could not be evaluated") {
			t.Fatalf("exit %d, want 4; stderr:\n%s", code, stderr)
		}
	})
	t.Run("JUnit to a file, the table to stdout", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.xml")
		code, stdout, _ := runLab(t, env, "grade", writeChecks(t, pass+fail), "--prometheus-url", url, "-o", "junit", "--out", out)
		data, err := os.ReadFile(out)
		if code != errs.ExitChecksFailed || err != nil {
			t.Fatalf("exit %d, report %v", code, err)
		}
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 2 || doc.Failures != 1 {
			t.Errorf("JUnit %+v, %v:\n%s", doc, err, data)
		}
		if !strings.Contains(stdout, "CHECK") || !strings.Contains(stdout, "value-is-two") {
			t.Errorf("no table on stdout:\n%s", stdout)
		}
	})
	t.Run("markdown", func(t *testing.T) {
		_, stdout, _ := runLab(t, env, "grade", writeChecks(t, pass), "--prometheus-url", url, "-o", "markdown")
		if !strings.HasPrefix(stdout, "### lab grade: cli") || !strings.Contains(stdout, "| value-is-one | ✅ pass | 3/3 |") {
			t.Errorf("markdown:\n%s", stdout)
		}
	})
	t.Run("watch returns once everything passes", func(t *testing.T) {
		exporter.Set("watch_value", 0)
		go func() {
			time.Sleep(2 * time.Second)
			exporter.Set("watch_value", 1)
		}()
		check := `    - {id: watched, timeout: 2s, interval: 500ms, promql: {query: watch_value, op: "==", value: 1}}` + "\n"
		code, stdout, stderr := runLab(t, env, "grade", writeChecks(t, check), "--prometheus-url", url, "--watch")
		if code != errs.ExitOK || strings.Count(stdout, "CHECK") < 2 || !strings.Contains(stderr, "Round 1: 0 passed") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
}

// TestGradeSimulatedLab grades a real simulated lab: resource checks run against its
// API server; promql and http checks end as errors that say a real cluster is needed
// (exit 4), and a kubeconfig without a Prometheus service says that.
func TestGradeSimulatedLab(t *testing.T) {
	if _, err := testenv.BinDir(); err != nil {
		t.Fatal(err)
	}
	env := testenv.PrivateEnv(t)
	if code, _, stderr := runLab(t, env, "up", "--provider", "sim", "--name", "gradesim"); code != 0 {
		t.Fatalf("lab up: exit %d\n%s", code, stderr)
	}
	t.Cleanup(func() { runLab(t, env, "down", "--yes", "--name", "gradesim") })
	checks := writeChecks(t, `    - {id: system-namespace, timeout: 5s, resource: {apiVersion: v1, kind: Namespace, name: kube-system}}
    - {id: error-rate, promql: {query: up, op: "==", value: 1}}
    - {id: frontend, http: {namespace: default, service: kubernetes, path: /}}
`)
	code, stdout, stderr := runLab(t, env, "grade", checks, "--name", "gradesim", "-o", "json")
	if code != errs.ExitChecksErrored {
		t.Fatalf("exit %d, want 4\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var r struct {
		Checks []struct {
			ID, Outcome, Error string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"system-namespace": {"pass", ""},
		"error-rate":       {"error", "needs a real cluster (simulated lab: no Prometheus runs)"},
		"frontend":         {"error", "needs a real cluster (simulated lab: no container serves HTTP)"},
	}
	for _, c := range r.Checks {
		if w := want[c.ID]; c.Outcome != w[0] || c.Error != w[1] {
			t.Errorf("%s: %s %q, want %s %q", c.ID, c.Outcome, c.Error, w[0], w[1])
		}
	}
	// Through --kubeconfig the grader does not know the cluster is simulated: it tries a
	// port-forward to the lab's Prometheus service, which no container answers (or which
	// does not exist when the lab has no monitoring stack): an error, never a pass.
	kubeconfig := filepath.Join(t.TempDir(), "lab.kubeconfig")
	code, data, _ := runLab(t, env, "kubeconfig", "--name", "gradesim")
	if code != 0 || os.WriteFile(kubeconfig, []byte(data), 0o600) != nil {
		t.Fatalf("lab kubeconfig: exit %d", code)
	}
	promOnly := writeChecks(t, `    - {id: error-rate, timeout: 3s, promql: {query: up, op: "==", value: 1}}`+"\n")
	code, stdout, stderr = runLab(t, env, "grade", promOnly, "--kubeconfig", kubeconfig)
	if code != errs.ExitChecksErrored || !strings.Contains(stdout, "the lab's Prometheus") {
		t.Fatalf("exit %d, want 4 naming the lab's Prometheus\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
