package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exporter is lab's own metrics, served while `lab chaos run` or `lab chaos gameday`
// runs, so a lab's Prometheus (or a person with curl) sees what lab is breaking: how
// many faults were injected, which are active now, how long recovery took. It has a
// registry of its own (no Go runtime metrics), so that what it serves is only lab's.
type Exporter struct {
	registry   *prometheus.Registry
	injections *prometheus.CounterVec
	reverts    *prometheus.CounterVec
	active     *prometheus.GaugeVec
	recovery   *prometheus.HistogramVec
	detection  *prometheus.HistogramVec
}

// Metric names, for tests and dashboards.
const (
	InjectionsTotal  = "lab_chaos_injections_total"
	RevertsTotal     = "lab_chaos_reverts_total"
	ActiveFaults     = "lab_chaos_active_faults"
	RecoverySeconds  = "lab_chaos_recovery_seconds"
	DetectionSeconds = "lab_chaos_detection_seconds"
)

// recoveryBuckets span a pod replaced in a second to a drill that takes ten minutes.
var recoveryBuckets = []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600}

// NewExporter returns an exporter with every metric at zero.
func NewExporter() *Exporter {
	e := &Exporter{
		registry: prometheus.NewRegistry(),
		injections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: InjectionsTotal, Help: "Faults lab injected, by lab and fault.",
		}, []string{"lab", "fault"}),
		reverts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RevertsTotal, Help: "Fault reverts, by lab, fault and outcome (ok or failed).",
		}, []string{"lab", "fault", "outcome"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: ActiveFaults, Help: "Faults injected by this lab process and not reverted yet.",
		}, []string{"lab", "fault"}),
		recovery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: RecoverySeconds, Help: "Time from the end of a fault until its workloads (or a gameday's steady state) were healthy again.",
			Buckets: recoveryBuckets,
		}, []string{"lab", "fault"}),
		detection: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: DetectionSeconds, Help: "Time from a gameday fault's injection to its first failing probe or firing alert.",
			Buckets: recoveryBuckets,
		}, []string{"lab", "fault"}),
	}
	e.registry.MustRegister(e.injections, e.reverts, e.active, e.recovery, e.detection)
	return e
}

// Injected counts an injection and an active fault.
func (e *Exporter) Injected(lab, fault string) {
	e.injections.WithLabelValues(lab, fault).Inc()
	e.active.WithLabelValues(lab, fault).Inc()
}

// Reverted counts a revert; a successful one is an active fault less.
func (e *Exporter) Reverted(lab, fault string, ok bool) {
	outcome := "ok"
	if !ok {
		outcome = "failed"
	}
	e.reverts.WithLabelValues(lab, fault, outcome).Inc()
	if ok {
		e.active.WithLabelValues(lab, fault).Dec()
	}
}

// Recovered observes a recovery time.
func (e *Exporter) Recovered(lab, fault string, d time.Duration) {
	e.recovery.WithLabelValues(lab, fault).Observe(d.Seconds())
}

// Detected observes a time to detect.
func (e *Exporter) Detected(lab, fault string, d time.Duration) {
	e.detection.WithLabelValues(lab, fault).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus exposition format.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{})
}

// Server is a running metrics endpoint.
type Server struct {
	// Addr is where it listens (host:port), the real port when :0 was asked for.
	Addr   string
	server *http.Server
	done   chan error
}

// Serve listens on addr and serves /metrics until Close. It returns once listening, so
// a bad address (port in use) is an error here and not a log line later.
func (e *Exporter) Serve(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serving metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", e.Handler())
	s := &Server{Addr: ln.Addr().String(), done: make(chan error, 1),
		server: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { s.done <- s.server.Serve(ln) }()
	return s, nil
}

// Close stops serving, letting a scrape in progress finish for up to 2 seconds.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.server.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
