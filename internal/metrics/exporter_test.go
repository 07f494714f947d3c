package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/testenv"
)

// TestExporterIsScrapedByARealPrometheus serves the exporter on a loopback port, lets a
// real Prometheus process scrape it, and asks Prometheus for what lab recorded: the
// path a lab's own Prometheus takes during a drill.
func TestExporterIsScrapedByARealPrometheus(t *testing.T) {
	t.Parallel()
	e := NewExporter()
	e.Injected("web", "pod-kill")
	e.Injected("web", "pod-kill")
	e.Injected("web", "scale")
	e.Reverted("web", "pod-kill", true)
	e.Reverted("web", "scale", false)
	e.Recovered("web", "pod-kill", 1500*time.Millisecond)
	e.Detected("web", "pod-kill", 4*time.Second)
	srv, err := e.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Targets: []string{srv.Addr}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := prom.WaitForTargets(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  float64
	}{
		{`sum(lab_chaos_injections_total{lab="web"})`, 3},
		{`lab_chaos_injections_total{lab="web",fault="pod-kill"}`, 2},
		{`lab_chaos_active_faults{lab="web",fault="pod-kill"}`, 1},
		{`lab_chaos_active_faults{lab="web",fault="scale"}`, 1}, // its revert failed
		{`lab_chaos_reverts_total{fault="scale",outcome="failed"}`, 1},
		{`lab_chaos_recovery_seconds_sum{fault="pod-kill"}`, 1.5},
		{`lab_chaos_recovery_seconds_bucket{fault="pod-kill",le="2"}`, 1},
		{`lab_chaos_recovery_seconds_bucket{fault="pod-kill",le="1"}`, 0},
		{`lab_chaos_detection_seconds_count{fault="pod-kill"}`, 1},
	}
	for _, tt := range tests {
		got, err := queryOne(ctx, prom.URL, tt.query)
		if err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %v, want %v", tt.query, got, tt.want)
		}
	}
}

// queryOne asks Prometheus's HTTP API for an instant vector of one sample, polling
// until the first scrape has landed.
func queryOne(ctx context.Context, base, query string) (float64, error) {
	var last error
	for ctx.Err() == nil {
		v, err := instantQuery(ctx, base, query)
		if err == nil {
			return v, nil
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return 0, last
}

func instantQuery(ctx context.Context, base, query string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(query), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return 0, err
	}
	if len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("%d samples: %s", len(body.Data.Result), data)
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

func TestServeRefusesABusyAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = NewExporter().Serve(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "serving metrics on "+ln.Addr().String()) {
		t.Fatalf("Serve on a busy port: %v", err)
	}
}

func TestServeStopsOnClose(t *testing.T) {
	t.Parallel()
	e := NewExporter()
	e.Injected("web", "scale")
	srv, err := e.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + srv.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "# HELP lab_chaos_injections_total") {
		t.Errorf("metrics page lacks lab's metrics:\n%s", body)
	}
	for _, foreign := range []string{"go_goroutines", "promhttp_"} {
		if strings.Contains(string(body), foreign) {
			t.Errorf("the exporter serves %s metrics; it should serve lab's only", foreign)
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + srv.Addr + "/metrics"); err == nil {
		t.Error("still serving after Close")
	}
}
