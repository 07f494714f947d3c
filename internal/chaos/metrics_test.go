package chaos

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
)

// TestRunFeedsLabsMetrics runs a real fault with the exporter attached and reads what
// it serves: one injection, one successful revert, no fault left active, one recovery.
func TestRunFeedsLabsMetrics(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 2)
	exp := metrics.NewExporter()
	e := testEngine(nil)
	e.Metrics = exp
	_, err := e.Run(context.Background(), simLab(t), RunOptions{Fault: "scale",
		Params:          params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](1)}, "namespace", "target", "replicas"),
		Limits:          DefaultLimits,
		Duration:        200 * time.Millisecond,
		RecoveryTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	families := scrape(t, exp)
	value := func(name string, labels ...string) float64 {
		for _, m := range families[name].GetMetric() {
			if matches(m.GetLabel(), labels) {
				if m.Histogram != nil {
					return float64(m.Histogram.GetSampleCount())
				}
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s%v in the exporter's output", name, labels)
		return 0
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{metrics.InjectionsTotal, []string{"fault=scale", "lab=chaos-test"}, 1},
		{metrics.RevertsTotal, []string{"fault=scale", "outcome=ok"}, 1},
		{metrics.ActiveFaults, []string{"fault=scale"}, 0},
		{metrics.RecoverySeconds, []string{"fault=scale"}, 1},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func matches(labels []*dto.LabelPair, want []string) bool {
	have := map[string]string{}
	for _, l := range labels {
		have[l.GetName()] = l.GetValue()
	}
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		if have[k] != v {
			return false
		}
	}
	return true
}

// scrape reads what the exporter serves, as Prometheus would.
func scrape(t *testing.T, exp *metrics.Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(exp.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}
