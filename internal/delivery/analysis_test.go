package delivery_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
)

// traffic writes, every 200ms until the test ends, what podinfo's metrics would show
// for the pods of one version: requests by status and a latency histogram, labelled as
// the monitoring stack's scrape labels them.
type traffic struct {
	ok, failed float64 // requests per tick
	latency    float64 // seconds every request takes
}

var buckets = []float64{0.1, 0.5, 1, 2.5, 5}

func feed(t *testing.T, ns, app, hash string, tr traffic) {
	t.Helper()
	labels := []string{"namespace", ns, "app", app, "rollouts_pod_template_hash", hash}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		var ok, failed float64
		for {
			ok += tr.ok
			failed += tr.failed
			exporter.Set("http_requests_total", ok, append(labels, "status", "200")...)
			exporter.Set("http_requests_total", failed, append(labels, "status", "500")...)
			for _, le := range buckets {
				n := 0.0
				if tr.latency <= le {
					n = ok + failed
				}
				exporter.Set("http_request_duration_seconds_bucket", n, append(labels, "le", strconv.FormatFloat(le, 'g', -1, 64))...)
			}
			exporter.Set("http_request_duration_seconds_bucket", ok+failed, append(labels, "le", "+Inf")...)
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
}

// canaryWithAnalysis runs the stack's template as a background analysis of the new
// version, as the demo shop's rollout mode writes it, and holds the canary at half
// weight long enough for the analysis to finish.
func canaryWithAnalysis(template, ns, app string) string {
	return fmt.Sprintf(`    canary:
      analysis:
        templates: [{templateName: %s, clusterScope: true}]
        args:
          - {name: namespace, value: %s}
          - {name: app, value: %s}
          - name: hash
            valueFrom: {podTemplateHashValue: Latest}
      steps:
        - setWeight: 50
        - pause: {duration: 10m}
`, template, ns, app)
}

// TestAnalysisTemplatesJudgeTheCanary runs the delivery stack's two analysis
// templates, as installed by the chart, against a real Prometheus: a good new version
// passes, a bad one fails and the controller rolls it back to the stable version.
func TestAnalysisTemplatesJudgeTheCanary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		template string
		good     bool
		traffic  traffic
	}{
		{"shop-success-rate", true, traffic{ok: 10, latency: 0.05}},
		{"shop-success-rate", false, traffic{ok: 5, failed: 5, latency: 0.05}},
		{"shop-latency-p95", true, traffic{ok: 10, latency: 0.05}},
		{"shop-latency-p95", false, traffic{ok: 10, latency: 2}},
	}
	for _, tt := range tests {
		name := tt.template + "/bad"
		if tt.good {
			name = tt.template + "/good"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			strategy := canaryWithAnalysis(tt.template, ns, "api")
			applyObject(t, delivery.RolloutsResource, ns, rollout("api", "v1", strategy))
			first := waitFor(t, ns, "api", "healthy at v1", healthy)
			feed(t, ns, "api", first.StableHash, traffic{ok: 10, latency: 0.05})

			applyObject(t, delivery.RolloutsResource, ns, rollout("api", "v2", strategy))
			canary := waitFor(t, ns, "api", "rolling out v2", func(ro *delivery.Rollout) bool {
				return ro.Observed && ro.CurrentHash != "" && ro.CurrentHash != first.StableHash
			})
			feed(t, ns, "api", canary.CurrentHash, tt.traffic)

			want := spec.RolloutCheck{Namespace: ns, Name: "api", Analysis: "Successful", Aborted: ptr(false)}
			if !tt.good {
				want = spec.RolloutCheck{Namespace: ns, Name: "api", Analysis: "Failed", Aborted: ptr(true), Phase: "Degraded"}
			}
			ro := waitFor(t, ns, "api", "judged by "+tt.template, func(ro *delivery.Rollout) bool {
				a := ro.LatestAnalysis()
				return a != nil && a.Phase != delivery.AnalysisRunning && a.Phase != delivery.AnalysisPending &&
					(tt.good || ro.Aborted)
			})
			if r := check(t, want); r.Outcome != grade.Pass {
				t.Fatalf("%s: %s %v %s\nanalysis runs: %+v", tt.template, r.Outcome, r.Evidence.Diff, r.Error, ro.Analysis)
			}
			if !tt.good && ro.StableHash != first.StableHash {
				t.Errorf("stable %s after the failed analysis, want the first version %s", ro.StableHash, first.StableHash)
			}
			if m := ro.LatestAnalysis().Metrics; len(m) != 1 || m[0].Last == "" {
				t.Errorf("metrics %+v: want one metric with its last measured value", m)
			}
		})
	}
}
