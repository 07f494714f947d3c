package stack

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloudnativelab/lab/internal/testenv"
)

// queryOver sends PromQL queries to a Prometheus at base, as the API server's service
// proxy forwards them on a real cluster.
func queryOver(base string) queryFunc {
	return func(ctx context.Context, q string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(q), nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
}

// The monitoring outcome gate against a real Prometheus process: it holds once a
// target is scraped and up, and fails, saying why, when the target is down.
func TestOutcomeGateAgainstARealPrometheus(t *testing.T) {
	t.Parallel()
	exporter := httptest.NewServer(promhttp.Handler())
	t.Cleanup(exporter.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := closed.Addr().String()
	closed.Close() // nothing listens there any more: the target is down

	gate := Outcome{Description: "Prometheus answers and the target is up", Query: `up{job="test"}`}
	tests := []struct {
		name    string
		target  string
		timeout time.Duration
		wantErr string
	}{
		{name: "target up", target: strings.TrimPrefix(exporter.URL, "http://"), timeout: 30 * time.Second},
		{name: "target down", target: down, timeout: 15 * time.Second, wantErr: "the target is down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Targets: []string{tt.target}, Interval: time.Second})
			err := waitOutcome(context.Background(), gate, queryOver(prom.URL), 250*time.Millisecond, tt.timeout, "monitoring")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("gate failed: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("gate error %v, want it to say %q", err, tt.wantErr)
			}
		})
	}
}
