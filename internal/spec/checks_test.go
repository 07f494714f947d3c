package spec

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadChecksBadFiles compares the errors for each testdata/checks/bad/X.yaml with X.err.
func TestLoadChecksBadFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/checks/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad checks files: %v", err)
	}
	for _, file := range files {
		file = filepath.ToSlash(file)
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			checks, err := LoadChecks(file, readFile(t, file))
			if err == nil {
				t.Fatalf("LoadChecks accepted a bad file: %+v", checks)
			}
			if checks != nil {
				t.Errorf("LoadChecks returned checks with an error")
			}
			requireFieldErrors(t, err)
			compareGolden(t, strings.TrimSuffix(file, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

// TestLoadChecksErrorPlaces spells out, beyond the golden files, the promises a user
// relies on: the line of the offending field and, for PromQL, the column in the
// expression; unknown types, missing fields and impossible timeouts are all reported.
func TestLoadChecksErrorPlaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, field string
		line        int
		contains    string
	}{
		{"promql-parse-error", "spec.checks[0].promql.query", 8, "at the end of the expression (column 34): unclosed left parenthesis"},
		{"promql-unclosed", "spec.checks[0].promql.query", 8, "at the end of the expression (line 2, column 33): unclosed left parenthesis"},
		{"durations", "spec.checks[0].timeout", 7, "100000000h is too long for a duration"},
		{"matchers", "spec.checks[0].resource.match.spec.replicas.op", 12, `must be one of exists, ==, !=, >, >=, <, <=, got "=>"`},
		{"matchers", `spec.checks[1].resource.match.metadata.annotations["deployment.kubernetes.io/revision"].value`, 19, `must be a number for op >=, got "2"`},
		{"matchers", "spec.checks[4].resource.match.spec.replicas.unit", 41, "a matcher has op and value only"},
		{"durations", "spec.checks[1].timeout", 10, `got "30x": units are ns, us, ms, s, m and h`},
		{"promql-parse-error", "spec.checks[1].promql.query", 13, `column 5 of the expression: unknown function with name "rtae"`},
		{"promql-multiline", "spec.checks[0].promql.query", 8, "line 2, column"},
		{"promql-range-vector", "spec.checks[0].promql.query", 8, "range vector"},
		{"type-count", "spec.checks[0]", 6, `check "nothing-to-check" needs exactly one of promql, alert, resource, http, rollout; it has none`},
		{"type-count", "spec.checks[1].alert", 10, "it has promql and alert"},
		{"type-count", "spec.checks[2].shell", 12, `unknown field "shell"`},
		{"missing-fields", "spec.checks[0].id", 6, "is required"},
		{"missing-fields", "spec.checks[1].resource.kind", 8, "is required"},
		{"impossible-timeouts", "spec.checks[0].interval", 8, "longer than the timeout 5s"},
		{"impossible-timeouts", "spec.checks[1].consecutive", 13, "5 evaluations 10s apart take 40s, longer than the timeout 30s"},
		{"impossible-timeouts", "spec.checks[2].timeout", 16, "got 0"},
		{"impossible-timeouts", "spec.checks[3].timeout", 20, "must be a positive duration, got -5s"},
		{"impossible-timeouts", "spec.checks[5].timeout", 27, `expected a duration such as "30s"`},
		{"http", "spec.checks[0].http.method", 12, "must be one of GET, HEAD"},
		{"http", "spec.checks[0].http.maxLatency", 15, "is not below the check's timeout"},
		{"alert", "spec.checks[0].alert.source", 8, `must be one of prometheus, alertmanager, got "alertmanger" (did you mean "alertmanager"?)`},
		{"alert", "spec.checks[1].alert.state", 13, "pending is a state only Prometheus knows"},
		{"alert", "spec.checks[2].alert.state", 17, "add source: alertmanager"},
	}
	for _, tt := range tests {
		file := "testdata/checks/bad/" + tt.file + ".yaml"
		_, err := LoadChecks(file, readFile(t, file))
		found := false
		for _, e := range requireFieldErrors(t, err) {
			if e.Field == tt.field && e.Line == tt.line && strings.Contains(e.Message, tt.contains) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no error at line %d on %s containing %q; got:\n%v", tt.file, tt.line, tt.field, tt.contains, err)
		}
	}
}

func TestLoadChecksGoodFiles(t *testing.T) {
	t.Parallel()
	file := "testdata/checks/good/every-type.yaml"
	checks, err := LoadChecks(file, readFile(t, file))
	if err != nil {
		t.Fatal(err)
	}
	if checks.Metadata.Name != "shop-week2" || len(checks.Spec.Checks) != 7 {
		t.Fatalf("metadata or count wrong: %+v", checks.Metadata)
	}
	var types []string
	for _, c := range checks.Spec.Checks {
		types = append(types, c.Type())
	}
	if want := []string{"promql", "promql", "alert", "alert", "resource", "resource", "http"}; !reflect.DeepEqual(types, want) {
		t.Errorf("types = %v, want %v", types, want)
	}
	first := checks.Spec.Checks[0]
	if first.Points != 20 || first.Timeout != 2*time.Minute || first.Interval != 5*time.Second ||
		first.Consecutive != 3 || first.Severity != SeverityWarning || len(first.Hints) != 2 ||
		first.PromQL.For != time.Minute || first.PromQL.Op != "<" || *first.PromQL.Value != 0.05 {
		t.Errorf("explicit fields not kept: %+v %+v", first, first.PromQL)
	}
	defaulted := checks.Spec.Checks[1]
	if defaulted.Points != 1 || defaulted.Timeout != 30*time.Second || defaulted.Interval != 2*time.Second ||
		defaulted.Consecutive != 1 || defaulted.Severity != SeverityError || !defaulted.PromQL.Empty {
		t.Errorf("defaults not applied: %+v", defaulted)
	}
	if a := checks.Spec.Checks[2].Alert; a.State != AlertFiring || a.Labels["severity"] != "page" || a.Source != AlertSourcePrometheus {
		t.Errorf("alert = %+v", a)
	}
	if a := checks.Spec.Checks[3].Alert; a.State != AlertSuppressed || a.Source != AlertSourceAlertmanager {
		t.Errorf("alertmanager alert = %+v", a)
	}
	r := checks.Spec.Checks[4].Resource
	containers := r.Match["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	if r.Condition.Status != "True" || len(containers) != 1 {
		t.Errorf("resource = %+v", r)
	}
	if c := checks.Spec.Checks[5].Resource.Count; c.String() != ">= 3" {
		t.Errorf("count = %s", c)
	}
	h := checks.Spec.Checks[6].HTTP
	if *h != (HTTPCheck{Namespace: "shop", Service: "frontend", Port: "http", Path: "/healthz", Method: "GET", Status: 200, Body: "^ok", MaxLatency: 500 * time.Millisecond}) {
		t.Errorf("http = %+v", h)
	}
	if err := ValidateChecks("checks", checks.Spec.Checks); err != nil {
		t.Errorf("loaded checks do not validate in code: %v", err)
	}
}

func TestCheckIntervalDefaultFollowsShortTimeout(t *testing.T) {
	t.Parallel()
	c := Check{Timeout: time.Second}
	c.Default()
	if c.Interval != time.Second {
		t.Errorf("interval = %s, want the 1s timeout", c.Interval)
	}
}

func TestPositionIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr         string
		offset       int
		line, column int
	}{
		{"up", 0, 1, 1},
		{"sum(up", 6, 1, 7},
		{"a\nbc", 3, 2, 2},
		{"é(", 2, 1, 2},
		{"x", 99, 1, 2},
	}
	for _, tt := range tests {
		if line, column := positionIn(tt.expr, tt.offset); line != tt.line || column != tt.column {
			t.Errorf("positionIn(%q, %d) = %d:%d, want %d:%d", tt.expr, tt.offset, line, column, tt.line, tt.column)
		}
	}
}

// TestNegativeTimeoutBlamedAlone: a negative timeout with no interval written is one
// problem, the timeout's; the default interval does not copy it and fail too.
func TestNegativeTimeoutBlamedAlone(t *testing.T) {
	t.Parallel()
	const file = "testdata/checks/bad/durations.yaml"
	_, err := LoadChecks(file, readFile(t, file))
	for _, e := range requireFieldErrors(t, err) {
		if strings.HasPrefix(e.Field, "spec.checks[2].") && e.Field != "spec.checks[2].timeout" {
			t.Errorf("a negative timeout also blamed %s: %s", e.Field, e.Message)
		}
	}
}

// TestMatchersDecoded: a mapping with op in a match becomes a spec.Matcher, anywhere in
// the partial object (lists included); the rest of the object stays as written.
func TestMatchersDecoded(t *testing.T) {
	t.Parallel()
	doc := `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Checks
metadata: {name: rollout}
spec:
  checks:
    - id: rolled-out
      resource:
        apiVersion: apps/v1
        kind: Deployment
        name: backend
        match:
          metadata: {annotations: {deployment.kubernetes.io/revision: {op: ">=", value: 2}}}
          spec: {template: {spec: {containers: [{name: app, image: {op: exists}}]}}}
`
	checks, err := LoadChecks("rollout.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m := checks.Spec.Checks[0].Resource.Match
	rev := m["metadata"].(map[string]any)["annotations"].(map[string]any)["deployment.kubernetes.io/revision"]
	if got, ok := rev.(Matcher); !ok || got.Op != ">=" || got.Value == nil || *got.Value != 2 {
		t.Errorf("revision matcher = %#v, want >= 2", rev)
	}
	container := m["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	if got, ok := container["image"].(Matcher); !ok || got.Op != MatchExists || container["name"] != "app" {
		t.Errorf("container = %#v, want name app and an exists matcher on image", container)
	}
}
