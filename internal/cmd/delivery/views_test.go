package delivery

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func intPtr(v int) *int { return &v }

// paused is a canary waiting at its pause step, with one failed and one running
// analysis run, as lab delivery status shows it.
func paused() *delivery.Rollout {
	return &delivery.Rollout{
		Namespace: "shop", Name: "backend", Strategy: delivery.StrategyCanary,
		Phase: delivery.PhasePaused, Message: "CanaryPauseStep", Observed: true,
		Paused: []string{"CanaryPauseStep"}, Step: intPtr(1), Steps: 4, Weight: intPtr(25),
		StableHash: "6f9c", CurrentHash: "7d4b",
		ReplicaSets: []delivery.ReplicaSet{
			{Name: "backend-7d4b", Hash: "7d4b", Revision: "3", Role: "canary", Images: []string{"podinfo:6.9.2"}, Replicas: 1, Ready: 1},
			{Name: "backend-6f9c", Hash: "6f9c", Revision: "2", Role: "stable", Images: []string{"podinfo:6.9.2"}, Replicas: 3, Ready: 3},
		},
		Analysis: []delivery.AnalysisRun{
			{Name: "backend-7d4b-3", Phase: delivery.AnalysisRunning, Created: time.Unix(20, 0),
				Metrics: []delivery.Metric{{Name: "success-rate", Phase: "Running", Measurements: 2, Successful: 2, Last: "[0.99]"}}},
			{Name: "backend-5a1e-2", Phase: delivery.AnalysisFailed, Created: time.Unix(10, 0),
				Metrics: []delivery.Metric{{Name: "success-rate", Phase: "Failed", Measurements: 2, Successful: 0, Failed: 1, Inconclusive: 1, Last: "[0.66]"}}},
		},
	}
}

func TestViewsGolden(t *testing.T) {
	t.Parallel()
	aborted := paused()
	aborted.Phase, aborted.Aborted, aborted.Paused = delivery.PhaseDegraded, true, nil
	blueGreen := &delivery.Rollout{Namespace: "shop", Name: "web", Strategy: delivery.StrategyBlueGreen, Phase: delivery.PhaseHealthy,
		Observed: true, StableHash: "1a2b", CurrentHash: "1a2b"}
	tests := []struct {
		golden string
		view   ui.View
	}{
		{"details-paused.txt", Details(paused())},
		{"details-aborted.txt", Details(aborted)},
		{"details-no-status.txt", Details(&delivery.Rollout{Namespace: "shop", Name: "new", Strategy: delivery.StrategyCanary, Steps: 2})},
		{"table.txt", Table([]*delivery.Rollout{paused(), blueGreen})},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			ios, _, out, _ := ui.Test()
			if err := ios.Printer(ui.FormatTable).Print(nil, func() ui.View { return tt.view }); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("got:\n%s\nwant (%s):\n%s", out, path, want)
			}
		})
	}
}
