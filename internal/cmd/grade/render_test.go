package grade

import (
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/golden"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/ui"
)

// fixedReport has every outcome, with fixed durations.
func fixedReport() *grade.Report {
	return grade.NewReport("shop-week2", []grade.Result{
		{ID: "api-up", Type: "promql", Severity: "error", Outcome: grade.Pass, Points: 10, Awarded: 10, Duration: 12 * time.Millisecond,
			Evidence: grade.Evidence{Query: `up{job="api"}`, Expected: "every series == 1", Actual: `up{job="api"} = 1`}},
		{ID: "backend-replicas", Type: "resource", Severity: "error", Outcome: grade.Fail, Points: 20, Duration: 30 * time.Second,
			Evidence: grade.Evidence{Object: "Deployment shop/backend (apps/v1)", Expected: "exists with the fields of match", Actual: "1 field differs",
				Diff: []string{"spec.replicas: expected 3, got 1"}},
			Hint: "Scale the Deployment to 3 replicas"},
		{ID: "error-rate", Type: "promql", Severity: "error", Outcome: grade.Error, Points: 5, Duration: 200 * time.Microsecond,
			Evidence: grade.Evidence{Query: "sum(rate(http_requests_total[1m]))", Expected: "every series < 0.05", Actual: "not evaluated"},
			Error:    "needs a real cluster (simulated lab: no Prometheus runs)"},
	}, 31*time.Second)
}

func TestTableGoldens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden string
		tty    bool
	}{
		{"testdata/report.table.txt", false},
		{"testdata/report.table.tty.txt", true},
	} {
		io, _, out, _ := ui.Test()
		io.IsTTY = tc.tty
		if err := render(io, FormatTable, fixedReport()); err != nil {
			t.Fatal(err)
		}
		golden.Compare(t, tc.golden, out.Bytes())
	}
}
