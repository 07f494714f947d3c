package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFormatSeries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{nil, "{}"},
		{map[string]string{"__name__": "up"}, "up"},
		{map[string]string{"__name__": "up", "job": "api", "instance": "a:1"}, `up{instance="a:1", job="api"}`},
		{map[string]string{"pod": `we"ird`}, `{pod="we\"ird"}`},
	}
	for _, tt := range tests {
		if got := FormatSeries(tt.labels); got != tt.want {
			t.Errorf("FormatSeries(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

// TestUnreachable: a port where nothing listens gives an UnreachableError that names the
// server, not a query error and not an empty result.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := "http://" + l.Addr().String()
	l.Close()
	c, err := New(address)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	samples, err := c.Query(ctx, "up", time.Now())
	var unreachable *UnreachableError
	if !errors.As(err, &unreachable) || samples != nil || !strings.Contains(err.Error(), "Prometheus at "+address+" is unreachable") {
		t.Fatalf("Query = %v, %v; want an UnreachableError", samples, err)
	}
	if _, err := c.AlertingRules(ctx, "X"); !errors.As(err, &unreachable) {
		t.Errorf("AlertingRules: %v", err)
	}
}

// TestNotPrometheus: a server that answers 404 (a --prometheus-url with a wrong path) or
// a page that is not the API is not called unreachable: the error says what answered.
func TestNotPrometheus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"404", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "404 page not found", http.StatusNotFound) },
			`answered, but not as Prometheus's HTTP API (client error: 404): "404 page not found"`},
		{"an HTML page", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>Grafana</html>")) },
			"answered, but not as Prometheus's HTTP API (invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, err := New(srv.URL + "/wrong")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Query(context.Background(), "up", time.Now())
			var notProm *NotPrometheusError
			var unreachable *UnreachableError
			if !errors.As(err, &notProm) || errors.As(err, &unreachable) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "unreachable") {
				t.Errorf("Query = %v; want a NotPrometheusError containing %q", err, tt.want)
			}
		})
	}
}
