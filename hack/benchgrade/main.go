// Command benchgrade is hack/bench-grade.sh's helper: it serves the Prometheus both
// graders query and writes the checks they evaluate.
//
//	benchgrade serve DIR N   start an exporter with N series bench_value{i="0".."N-1"}
//	                         (value i) and a real Prometheus scraping it every second;
//	                         write DIR/checks.yaml (N promql checks, one per series, for
//	                         lab grade), DIR/checks.tsv (expr, op, value per line, for
//	                         the script-style grader) and DIR/url; touch DIR/ready once
//	                         Prometheus has every series; serve until SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cloudnativelab/lab/internal/testenv"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchgrade:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 || args[0] != "serve" {
		return errors.New("usage: benchgrade serve DIR N")
	}
	dir := args[1]
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 1 {
		return fmt.Errorf("N must be a positive integer, got %q", args[2])
	}
	return serve(dir, n)
}

func serve(dir string, n int) error {
	exporter := testenv.NewExporter()
	defer exporter.Close()
	for i := range n {
		exporter.Set("bench_value", float64(i), "i", strconv.Itoa(i))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	promDir := filepath.Join(dir, "prometheus")
	if err := os.MkdirAll(promDir, 0o755); err != nil {
		return err
	}
	start, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	prom, err := testenv.LaunchPrometheus(start, promDir, testenv.PrometheusConfig{Targets: []string{exporter.Addr}})
	if err != nil {
		return err
	}
	defer prom.Stop()
	if err := writeChecks(dir, n); err != nil {
		return err
	}
	if err := waitForSeries(start, prom.URL, n); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "url"), []byte(prom.URL+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// writeChecks writes the same n checks for both graders: bench_value{i="k"} == k.
func writeChecks(dir string, n int) error {
	var yaml, tsv strings.Builder
	yaml.WriteString("apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Checks\nmetadata: {name: bench}\nspec:\n  checks:\n")
	for i := range n {
		expr := fmt.Sprintf(`bench_value{i="%d"}`, i)
		fmt.Fprintf(&yaml, "    - id: series-%d\n      promql: {query: '%s', op: \"==\", value: %d}\n", i, expr, i)
		fmt.Fprintf(&tsv, "%s\t==\t%d\n", expr, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "checks.yaml"), []byte(yaml.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "checks.tsv"), []byte(tsv.String()), 0o644)
}

// waitForSeries waits until Prometheus has scraped all n series.
func waitForSeries(ctx context.Context, base string, n int) error {
	query := base + "/api/v1/query?query=" + url.QueryEscape("count(bench_value)")
	for {
		if got, err := countSeries(ctx, query); err == nil && got == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Prometheus did not scrape the %d series in time", n)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func countSeries(ctx context.Context, query string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, query, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("unexpected answer: %v", err)
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	return strconv.Atoi(s)
}
