package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PrometheusBinEnv overrides where the prometheus binary is looked up (default: PATH,
// where the Debian package installs /usr/bin/prometheus).
const PrometheusBinEnv = "LAB_PROMETHEUS_BIN"

// PrometheusConfig shapes a test Prometheus.
type PrometheusConfig struct {
	// Targets are host:port addresses scraped at /metrics, as one job "test".
	Targets []string
	// Rules is the content of a rule file (groups: ...), loaded when not empty.
	Rules string
	// Interval is both the scrape and the rule evaluation interval (default 1s).
	Interval time.Duration
	// Alertmanagers are host:port addresses Prometheus sends its firing alerts to.
	Alertmanagers []string
}

// Prometheus is a real Prometheus process with its own port and storage directory.
type Prometheus struct{ *daemon }

// PrometheusBinary finds the prometheus binary.
func PrometheusBinary() (string, error) {
	if bin := os.Getenv(PrometheusBinEnv); bin != "" {
		return bin, nil
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		return "", errors.New("prometheus is not installed: run `make testenv` (it installs Debian's prometheus package) or set " + PrometheusBinEnv)
	}
	return bin, nil
}

// StartPrometheus starts Prometheus for a test and stops it when the test ends. The
// test fails when Prometheus is not installed: grading tests need the real thing.
func StartPrometheus(t testing.TB, cfg PrometheusConfig) *Prometheus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := LaunchPrometheus(ctx, t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// LaunchPrometheus starts Prometheus with its configuration and data under dir and
// returns once it is ready to answer queries. Stop it with Stop.
func LaunchPrometheus(ctx context.Context, dir string, cfg PrometheusConfig) (*Prometheus, error) {
	bin, err := PrometheusBinary()
	if err != nil {
		return nil, err
	}
	if err := writePrometheusConfig(dir, cfg); err != nil {
		return nil, err
	}
	d, err := startDaemon(ctx, "prometheus", dir, bin, "/-/ready", func(addr string) []string {
		return []string{
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--web.enable-lifecycle",
			"--log.level=warn",
		}
	})
	if err != nil {
		return nil, err
	}
	return &Prometheus{d}, nil
}

func writePrometheusConfig(dir string, cfg PrometheusConfig) error {
	interval := cfg.Interval
	if interval <= 0 {
		interval = time.Second
	}
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", interval, interval, interval)
	if cfg.Rules != "" {
		rules := filepath.Join(dir, "rules.yml")
		if err := os.WriteFile(rules, []byte(cfg.Rules), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&b, "rule_files: [%q]\n", rules)
	}
	if len(cfg.Targets) > 0 {
		fmt.Fprintf(&b, "scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [%s]\n", quoteAll(cfg.Targets))
	}
	if len(cfg.Alertmanagers) > 0 {
		fmt.Fprintf(&b, "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%s]\n", quoteAll(cfg.Alertmanagers))
	}
	return os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(b.String()), 0o644)
}

// WaitForTargets waits until every scrape target is up: from then on queries see data.
func (p *Prometheus) WaitForTargets(ctx context.Context) error {
	for {
		up, err := p.targetsUp(ctx)
		if err == nil && up {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("scrape targets not up: %v (last error: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *Prometheus) targetsUp(ctx context.Context) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/targets", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Health string `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err
	}
	for _, t := range body.Data.ActiveTargets {
		if t.Health != "up" {
			return false, nil
		}
	}
	return len(body.Data.ActiveTargets) > 0, nil
}

func quoteAll(items []string) string {
	quoted := make([]string, len(items))
	for i, t := range items {
		quoted[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(quoted, ", ")
}
