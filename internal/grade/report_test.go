package grade

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/golden"
	"github.com/cloudnativelab/lab/internal/junit"
)

// SampleReport is a report with every outcome and every kind of evidence, with fixed
// durations, for golden files here and in the grade command.
func sampleReport() *Report {
	return NewReport("shop-week2", []Result{
		{
			ID: "api-up", Description: "The API is scraped", Type: "promql", Severity: "error", Outcome: Pass,
			Points: 10, Awarded: 10, Duration: 12 * time.Millisecond, Attempts: 1,
			Evidence: Evidence{Query: `up{job="api"}`, Expected: "every series == 1", Actual: `up{instance="a:9090", job="api"} = 1`},
		},
		{
			ID: "backend-replicas", Type: "resource", Severity: "error", Outcome: Fail,
			Points: 20, Duration: 30 * time.Second, Attempts: 15,
			Evidence: Evidence{
				Object: "Deployment shop/backend (apps/v1)", Expected: "exists with the fields of match", Actual: "2 fields differ",
				Diff: []string{"spec.replicas: expected 3, got 1", `spec.template.spec.containers: no item matches {"image":"nginx:1.27","name":"app"}; closest is item 0: image: expected "nginx:1.27", got "nginx:1.25"`},
			},
			Hint: "Scale the Deployment: kubectl -n shop scale deploy/backend --replicas 3 | check <it>",
		},
		{
			ID: "error-rate", Type: "promql", Severity: "error", Outcome: Error,
			Points: 5, Duration: 200 * time.Microsecond, Attempts: 1,
			Evidence: Evidence{Query: `sum(rate(http_requests_total{code=~"5.."}[1m]))`, Expected: "every series < 0.05 for 1m", Actual: "not evaluated"},
			Error:    "needs a real cluster (simulated lab: no Prometheus runs)",
			Hint:     "Look at the 5xx responses",
		},
		{
			ID: "frontend-answers", Type: "http", Severity: "warning", Outcome: Fail,
			Points: 1, Duration: 2500 * time.Millisecond, Attempts: 2,
			Evidence: Evidence{
				Object: "GET /healthz through service shop/frontend:http", Expected: `status 200, body matching "^ok"`,
				Actual: `status 503 in 4ms, body "down"`, Diff: []string{"status: expected 200, got 503", `body: expected a match of "^ok", got "down"`},
			},
		},
	}, 31*time.Second)
}

func TestReportGoldens(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	junit, err := r.JUnit()
	if err != nil {
		t.Fatal(err)
	}
	var jsonOut bytes.Buffer
	enc := json.NewEncoder(&jsonOut)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // as the grade command prints it
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		got    []byte
	}{
		{"testdata/report.junit.xml", junit},
		{"testdata/report.md", r.Markdown()},
		{"testdata/report.json", jsonOut.Bytes()},
	} {
		golden.Compare(t, tc.golden, tc.got)
	}
}

// TestJUnitIsWellFormed reads the XML back: the counts and the failure and error
// elements are where CI systems look for them.
func TestJUnitIsWellFormed(t *testing.T) {
	t.Parallel()
	data, err := sampleReport().JUnit()
	if err != nil {
		t.Fatal(err)
	}
	var doc junit.Document
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, data)
	}
	s := doc.Suites[0]
	if doc.Tests != 4 || doc.Failures != 2 || doc.Errors != 1 || len(s.Cases) != 4 {
		t.Fatalf("counts: %+v", doc)
	}
	if s.Cases[0].Failure != nil || s.Cases[1].Failure == nil || s.Cases[2].Error == nil || s.Cases[1].Time != "30.000" {
		t.Errorf("cases: %+v", s.Cases)
	}
}

func TestScoreAndExitCode(t *testing.T) {
	t.Parallel()
	result := func(o Outcome, points int, severity string) Result {
		r := Result{Outcome: o, Points: points, Severity: severity}
		if o == Pass {
			r.Awarded = points
		}
		return r
	}
	tests := []struct {
		name    string
		results []Result
		percent float64
		kind    errs.Kind // Internal stands for "no error"
	}{
		{"all pass", []Result{result(Pass, 2, "error"), result(Pass, 3, "error")}, 100, errs.Internal},
		{"partial credit", []Result{result(Pass, 2, "error"), result(Fail, 1, "error")}, 66.6, errs.ChecksFailed},
		{"an error wins over a failure", []Result{result(Fail, 1, "error"), result(Error, 1, "error")}, 0, errs.ChecksErrored},
		{"warnings do not change the exit code", []Result{result(Pass, 1, "error"), result(Fail, 1, "warning"), result(Error, 1, "info")}, 33.3, errs.Internal},
	}
	for _, tt := range tests {
		r := NewReport("x", tt.results, 0)
		if r.Score.Percent != tt.percent || r.Score.Percent > 100 {
			t.Errorf("%s: percent = %v, want %v", tt.name, r.Score.Percent, tt.percent)
		}
		err := r.Err()
		switch {
		case tt.kind == errs.Internal && err != nil:
			t.Errorf("%s: err = %v, want none", tt.name, err)
		case tt.kind != errs.Internal && errs.KindOf(err) != tt.kind:
			t.Errorf("%s: kind = %v (%v), want %v", tt.name, errs.KindOf(err), err, tt.kind)
		}
	}
}
