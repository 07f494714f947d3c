package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
}

// Prometheus is a real Prometheus process with its own port and storage directory.
type Prometheus struct {
	// URL is its address, http://127.0.0.1:PORT.
	URL string

	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	log  *os.File
}

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
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := &Prometheus{URL: "http://" + addr, dir: dir, done: make(chan struct{}), log: logFile}
	p.cmd = exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-lifecycle",
		"--log.level=warn",
	)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	// Its own process group, so that a Ctrl-C meant for the test does not reach it
	// before Stop does.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
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
		quoted := make([]string, len(cfg.Targets))
		for i, t := range cfg.Targets {
			quoted[i] = fmt.Sprintf("%q", t)
		}
		fmt.Fprintf(&b, "scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [%s]\n", strings.Join(quoted, ", "))
	}
	return os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(b.String()), 0o644)
}

// waitReady polls /-/ready until Prometheus answers 200, it exits, or ctx ends.
func (p *Prometheus) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("prometheus exited before it was ready:\n%s", p.Log())
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready: %w\n%s", ctx.Err(), p.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
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

// Log is what Prometheus wrote so far, for failure messages.
func (p *Prometheus) Log() string {
	data, _ := os.ReadFile(filepath.Join(p.dir, "prometheus.log"))
	return string(data)
}

// Stop terminates Prometheus and waits for it to exit (killing it after 10 seconds);
// safe to call more than once.
func (p *Prometheus) Stop() {
	if p.cmd.Process != nil {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		}
	}
	p.log.Close()
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
