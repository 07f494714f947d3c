package testenv

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exporter is a metrics endpoint whose values the test controls: a client_golang
// registry served at /metrics by an HTTP server on the loopback interface.
type Exporter struct {
	Registry *prometheus.Registry
	// Addr is host:port, as a Prometheus scrape target.
	Addr string

	server *httptest.Server
	mu     sync.Mutex
	gauges map[string]*prometheus.GaugeVec
}

// StartExporter serves a fresh registry until the test ends.
func StartExporter(t testing.TB) *Exporter {
	t.Helper()
	e := NewExporter()
	t.Cleanup(e.Close)
	return e
}

// NewExporter serves a fresh registry; Close it when done.
func NewExporter() *Exporter {
	reg := prometheus.NewRegistry()
	server := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return &Exporter{
		Registry: reg,
		Addr:     strings.TrimPrefix(server.URL, "http://"),
		server:   server,
		gauges:   map[string]*prometheus.GaugeVec{},
	}
}

// Set sets gauge name with the given label pairs ("k1", "v1", "k2", "v2") to value,
// registering the gauge the first time. Every series of one gauge has the same label
// names.
func (e *Exporter) Set(name string, value float64, labelPairs ...string) {
	names, values := splitPairs(labelPairs)
	e.mu.Lock()
	g, ok := e.gauges[name]
	if !ok {
		g = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: name + " (set by the test)"}, names)
		e.Registry.MustRegister(g)
		e.gauges[name] = g
	}
	e.mu.Unlock()
	g.WithLabelValues(values...).Set(value)
}

// Delete removes one series of gauge name, so Prometheus stops seeing it.
func (e *Exporter) Delete(name string, labelPairs ...string) {
	_, values := splitPairs(labelPairs)
	e.mu.Lock()
	defer e.mu.Unlock()
	if g, ok := e.gauges[name]; ok {
		g.DeleteLabelValues(values...)
	}
}

// Close stops serving.
func (e *Exporter) Close() { e.server.Close() }

func splitPairs(pairs []string) (names, values []string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		names = append(names, pairs[i])
		values = append(values, pairs[i+1])
	}
	return names, values
}
