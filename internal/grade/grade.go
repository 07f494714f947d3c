// Package grade evaluates checks (internal/spec's Check) against a cluster and its
// Prometheus: each check is polled until its condition holds the required number of
// times in a row or its timeout ends, and ends as pass, fail or error with the evidence
// behind it. Grading never changes the cluster.
//
// One model serves `lab grade`, scenario steps, readiness gates and gameday steady
// states: they all ask whether something holds within a time.
package grade

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Outcome of a check.
type Outcome string

const (
	// Pass: the condition held, Consecutive times in a row, within the timeout.
	Pass Outcome = "pass"
	// Fail: the check was evaluated and its condition did not hold in time.
	Fail Outcome = "fail"
	// Error: the check could not be evaluated (no data, Prometheus unreachable, RBAC
	// denied, a simulated cluster). Missing data is never a pass.
	Error Outcome = "error"
)

// Evidence is what a check saw: what it asked, what it expected and what it got.
type Evidence struct {
	// Query is the PromQL expression or alert; Object the Kubernetes object(s) or the
	// HTTP request. One of them is set.
	Query    string `json:"query,omitempty"`
	Object   string `json:"object,omitempty"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	// Diff lists each difference: fields of an object, failing series, HTTP mismatches.
	Diff []string `json:"diff,omitempty"`
}

// DetailLines are what a report shows under a check that did not pass: what it looked
// at (query or object, on one line), then each difference.
func (ev Evidence) DetailLines() []string {
	var lines []string
	for _, l := range []struct{ key, value string }{{"query", ev.Query}, {"object", ev.Object}} {
		if l.value != "" {
			lines = append(lines, l.key+": "+strings.ReplaceAll(strings.TrimSpace(l.value), "\n", " "))
		}
	}
	for _, d := range ev.Diff {
		lines = append(lines, "- "+d)
	}
	return lines
}

// Result is the outcome of one check with its evidence.
type Result struct {
	ID          string  `json:"id"`
	Description string  `json:"description,omitempty"`
	Type        string  `json:"type"`
	Severity    string  `json:"severity"`
	Outcome     Outcome `json:"outcome"`
	Points      int     `json:"points"`
	Awarded     int     `json:"awarded"`
	// Duration is the time from the check's first evaluation to its outcome.
	Duration time.Duration `json:"-"`
	Attempts int           `json:"attempts"`
	Evidence Evidence      `json:"evidence"`
	// Error says why a check could not be evaluated (outcome error).
	Error string `json:"error,omitempty"`
	// Hint is the next hint for a check that did not pass.
	Hint string `json:"hint,omitempty"`
}

// MarshalJSON writes Duration as durationMs, milliseconds to a tenth.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		DurationMs float64 `json:"durationMs"`
	}{plain(r), math.Round(float64(r.Duration)/float64(time.Millisecond)*10) / 10})
}

// Score is the points of passed checks over all points.
type Score struct {
	Awarded int     `json:"awarded"`
	Total   int     `json:"total"`
	Percent float64 `json:"percent"`
}

// Summary counts outcomes.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errored int `json:"errored"`
}

// Report is the result of grading a set of checks, in the order they were given.
type Report struct {
	Name     string        `json:"name"`
	Checks   []Result      `json:"checks"`
	Summary  Summary       `json:"summary"`
	Score    Score         `json:"score"`
	Duration time.Duration `json:"-"`
}

// NewReport totals results into a report.
func NewReport(name string, results []Result, took time.Duration) *Report {
	r := &Report{Name: name, Checks: results, Duration: took}
	for _, c := range results {
		r.Score.Total += c.Points
		r.Score.Awarded += c.Awarded
		switch c.Outcome {
		case Pass:
			r.Summary.Passed++
		case Fail:
			r.Summary.Failed++
		default:
			r.Summary.Errored++
		}
	}
	r.Score.Percent = percent(r.Score.Awarded, r.Score.Total)
	return r
}

// percent is awarded/total in percent to a tenth, never above 100.
func percent(awarded, total int) float64 {
	if total <= 0 {
		return 0
	}
	p := math.Floor(float64(awarded)*1000/float64(total)) / 10
	return min(p, 100)
}

// Err is nil when every check of severity error passed. Otherwise it is
// errs.ChecksErrored (exit 4) when any of them could not be evaluated, else
// errs.ChecksFailed (exit 3): an incomplete grade is reported as such even when another
// check failed, since fixing what blocked the evaluation may change the rest.
// Checks of severity warning or info never change the exit code.
func (r *Report) Err() error {
	failed, errored := 0, 0
	for _, c := range r.Checks {
		if c.Severity != spec.SeverityError {
			continue
		}
		switch c.Outcome {
		case Fail:
			failed++
		case Error:
			errored++
		}
	}
	switch {
	case errored > 0:
		return errs.New(errs.ChecksErrored, fmt.Sprintf("%s could not be evaluated", countChecks(errored)),
			"the report says why for each; fix the cause (a lab without Prometheus, a cluster that does not answer, missing permissions) and grade again")
	case failed > 0:
		return errs.New(errs.ChecksFailed, fmt.Sprintf("%s failed", countChecks(failed)),
			"the report shows the evidence and a hint for each failed check")
	}
	return nil
}

func countChecks(n int) string {
	if n == 1 {
		return "1 check"
	}
	return fmt.Sprintf("%d checks", n)
}

// DefaultWorkers is how many checks are evaluated at once by default.
const DefaultWorkers = 8

// Grader evaluates checks against its Targets.
type Grader struct {
	Targets *Targets
	// Workers bounds the checks evaluated at once (default DefaultWorkers). A slow check
	// holds only its own worker.
	Workers int
	// Once evaluates every check a single time, without polling: for --watch, which
	// polls the whole set instead.
	Once bool
	// HintLevel is how many hints of a check were shown before, so the report gives the
	// next one; nil means none were.
	HintLevel map[string]int
	// Events receives a step per check (nil: none).
	Events event.Sink
}

// Run evaluates the checks concurrently and reports them in their given order.
func (g *Grader) Run(ctx context.Context, name string, checks []spec.Check) *Report {
	start := time.Now()
	results := make([]Result, len(checks))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range g.workers(len(checks)) {
		wg.Go(func() {
			for i := range jobs {
				results[i] = g.runCheck(ctx, &checks[i])
			}
		})
	}
	for i := range checks {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return NewReport(name, results, time.Since(start))
}

func (g *Grader) workers(checks int) int {
	n := g.Workers
	if n <= 0 {
		n = DefaultWorkers
	}
	return max(1, min(n, checks))
}

// runCheck evaluates one check and reports it as a step.
func (g *Grader) runCheck(ctx context.Context, c *spec.Check) Result {
	g.emit(event.Event{Type: event.StepStart, Step: c.ID})
	r := g.evaluate(ctx, c)
	ev := event.Event{Type: event.StepDone, Step: c.ID, Duration: r.Duration}
	if r.Outcome != Pass {
		ev.Type, ev.Error = event.StepFail, string(r.Outcome)+": "+r.summary()
	}
	g.emit(ev)
	return r
}

func (g *Grader) emit(e event.Event) {
	if g.Events != nil {
		e.Time = time.Now()
		g.Events.Emit(e)
	}
}

// summary is the evidence in one line: the error, else expected and actual.
func (r *Result) summary() string {
	if r.Outcome == Error && r.Error != "" {
		return r.Error
	}
	return fmt.Sprintf("expected %s, got %s", r.Evidence.Expected, r.Evidence.Actual)
}

// Summary is the result's evidence in one line, as the table and JUnit messages show it.
func (r *Result) Summary() string { return r.summary() }

// evaluate polls the check's probe and turns the last observation into a result.
func (g *Grader) evaluate(ctx context.Context, c *spec.Check) Result {
	r := Result{ID: c.ID, Description: c.Description, Type: c.Type(), Severity: c.Severity, Points: c.Points}
	p := g.probeFor(c)
	start := time.Now()
	obs, attempts := g.poll(ctx, c, p)
	r.Duration, r.Attempts = time.Since(start), attempts
	r.Outcome, r.Evidence, r.Error = obs.outcome, obs.evidence, obs.err
	if r.Outcome == Pass {
		r.Awarded = r.Points
	} else {
		r.Hint = nextHint(c.Hints, g.HintLevel[c.ID])
	}
	return r
}

func nextHint(hints []string, shown int) string {
	if len(hints) == 0 {
		return ""
	}
	return hints[min(max(shown, 0), len(hints)-1)]
}
