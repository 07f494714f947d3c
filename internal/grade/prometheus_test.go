package grade

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// alertRules is the rule file of the shared Prometheus: DemoHigh goes pending when
// alert_value turns positive and fires 4 seconds later.
const alertRules = `groups:
  - name: test
    rules:
      - alert: DemoHigh
        expr: alert_value > 0
        for: 4s
        labels: {severity: page}
`

// promEnv is a real Prometheus scraping an exporter the test sets, every second.
type promEnv struct {
	prom     *testenv.Prometheus
	exporter *testenv.Exporter
	targets  *Targets
}

// TestWithPrometheus runs the tests that share one Prometheus, in parallel; each uses
// metrics of its own names. Prometheus stops when all of them are done.
func TestWithPrometheus(t *testing.T) {
	t.Parallel()
	exporter := testenv.StartExporter(t)
	exporter.Set("alert_value", 0)
	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Targets: []string{exporter.Addr}, Rules: alertRules})
	env := newPromEnv(t, prom, exporter)
	for name, test := range map[string]func(*testing.T, *promEnv){
		"PromQLOutcomes":                testPromQLOutcomes,
		"PromQLValueFlipsWithinTimeout": testPromQLValueFlipsWithinTimeout,
		"PromQLForWindow":               testPromQLForWindow,
		"AlertPendingThenFiring":        testAlertPendingThenFiring,
		"SlowCheckDoesNotHoldOthers":    testSlowCheckDoesNotHoldOthers,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, env)
		})
	}
}

// ownPrometheus is a Prometheus for one test, stopped when it ends.
func ownPrometheus(t *testing.T) *promEnv {
	exporter := testenv.StartExporter(t)
	exporter.Set("own_value", 0)
	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{Targets: []string{exporter.Addr}})
	return newPromEnv(t, prom, exporter)
}

func newPromEnv(t *testing.T, prom *testenv.Prometheus, exporter *testenv.Exporter) *promEnv {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := prom.WaitForTargets(ctx); err != nil {
		t.Fatalf("%v\n%s", err, prom.Log())
	}
	client, err := metrics.New(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &promEnv{prom: prom, exporter: exporter, targets: &Targets{Prometheus: client}}
}

// waitForValue waits until Prometheus has scraped the value, so a test starts from a
// known state.
func (e *promEnv) waitForValue(t *testing.T, query string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		samples, err := e.targets.Prometheus.Query(context.Background(), query, time.Now())
		if err == nil && len(samples) == 1 && samples[0].Value == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Prometheus did not see %s = %v in time", query, want)
}

func promCheck(id, query string, mod func(*spec.Check)) spec.Check {
	c := spec.Check{ID: id, Timeout: 3 * time.Second, Interval: 250 * time.Millisecond, PromQL: &spec.PromQLCheck{Query: query}}
	if mod != nil {
		mod(&c)
	}
	c.Default()
	if err := spec.ValidateChecks("checks", []spec.Check{c}); err != nil {
		panic(err)
	}
	return c
}

func condition(op string, value float64) func(*spec.Check) {
	return func(c *spec.Check) { c.PromQL.Op, c.PromQL.Value = op, &value }
}

func gradeOne(t *testing.T, targets *Targets, c spec.Check) Result {
	t.Helper()
	g := &Grader{Targets: targets}
	return g.Run(context.Background(), "test", []spec.Check{c}).Checks[0]
}

func testPromQLOutcomes(t *testing.T, env *promEnv) {
	env.exporter.Set("outcome_value", 5, "pod", "a")
	env.exporter.Set("outcome_value", 7, "pod", "b")
	env.exporter.Set("outcome_low", 1)
	env.waitForValue(t, `sum(outcome_value)`, 12)
	env.waitForValue(t, `outcome_low`, 1)
	tests := []struct {
		name     string
		check    spec.Check
		outcome  Outcome
		evidence []string // substrings of actual, diff or error
	}{
		{"every series holds", promCheck("pass", "outcome_value", condition(">=", 5)), Pass,
			[]string{`outcome_value{instance=`, `pod="a"} = 5`}},
		{"a scalar-like sum", promCheck("sum", "sum(outcome_value)", condition("==", 12)), Pass, []string{"12"}},
		{"fail shows the actual value", promCheck("fail", "outcome_low", condition(">=", 3)), Fail,
			[]string{`outcome_low{instance=`, "} = 1", "expected >= 3"}},
		{"one series failing fails the check", promCheck("one-bad", "outcome_value", condition(">", 6)), Fail,
			[]string{`pod="a"} = 5, expected > 6`}},
		{"no data is an error, not a pass", promCheck("no-data", "does_not_exist", condition("<", 1)), Error,
			[]string{"no data"}},
		{"empty passes on no series", promCheck("empty", "does_not_exist", func(c *spec.Check) { c.PromQL.Empty = true }), Pass, []string{"no series"}},
		{"empty fails on series", promCheck("not-empty", "outcome_low", func(c *spec.Check) { c.PromQL.Empty = true }), Fail, []string{"1 series"}},
		{"nonempty fails on no series", promCheck("nonempty", "does_not_exist", func(c *spec.Check) { c.PromQL.NonEmpty = true }), Fail, []string{"no series"}},
		{"a NaN scalar is no data", promCheck("nan", "scalar(does_not_exist)", condition(">", 0)), Error, []string{"no data"}},
		{"an execution error is an error", promCheck("exec", `label_replace(outcome_value, "pod", "x", "", "")`, condition(">", 0)), Error,
			[]string{"Prometheus rejected the query"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gradeOne(t, env.targets, tt.check)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome = %s, want %s; evidence %+v, error %q", r.Outcome, tt.outcome, r.Evidence, r.Error)
			}
			all := r.Evidence.Actual + "\n" + strings.Join(r.Evidence.Diff, "\n") + "\n" + r.Error
			for _, want := range tt.evidence {
				if !strings.Contains(all, want) {
					t.Errorf("evidence does not mention %q:\n%s", want, all)
				}
			}
			if r.Evidence.Query != tt.check.PromQL.Query || r.Evidence.Expected == "" {
				t.Errorf("evidence lacks the query or the expectation: %+v", r.Evidence)
			}
			if (r.Outcome == Pass) != (r.Awarded == r.Points) {
				t.Errorf("awarded %d of %d for outcome %s", r.Awarded, r.Points, r.Outcome)
			}
		})
	}
}

// testPromQLValueFlipsWithinTimeout: a check that fails at first passes as soon as the
// value changes, before its timeout.
func testPromQLValueFlipsWithinTimeout(t *testing.T, env *promEnv) {
	env.exporter.Set("flip_value", 0)
	env.waitForValue(t, "flip_value", 0)
	go func() {
		time.Sleep(2 * time.Second)
		env.exporter.Set("flip_value", 1)
	}()
	c := promCheck("flip", "flip_value", func(c *spec.Check) {
		condition("==", 1)(c)
		c.Timeout, c.Interval, c.Consecutive = 30*time.Second, 250*time.Millisecond, 2
	})
	r := gradeOne(t, env.targets, c)
	if r.Outcome != Pass || r.Attempts < 3 {
		t.Fatalf("outcome %s after %d attempts, want pass after several: %+v", r.Outcome, r.Attempts, r.Evidence)
	}
	if r.Duration >= c.Timeout {
		t.Errorf("passed only at the timeout (%s)", r.Duration)
	}
}

// testPromQLForWindow: a for window that was broken once in the middle fails, naming
// when and with what value; once the break has left the window the check passes again.
func testPromQLForWindow(t *testing.T, env *promEnv) {
	env.exporter.Set("window_value", 1)
	env.waitForValue(t, "window_value", 1)
	const window = 6 * time.Second
	check := func(timeout time.Duration) spec.Check {
		return promCheck("window", "window_value", func(c *spec.Check) {
			condition("==", 1)(c)
			c.PromQL.For, c.Timeout, c.Interval = window, timeout, 500*time.Millisecond
		})
	}
	once := &Grader{Targets: env.targets, Once: true}
	time.Sleep(window + 2*time.Second) // a whole window of good data
	if r := once.Run(context.Background(), "t", []spec.Check{check(5 * time.Second)}).Checks[0]; r.Outcome != Pass {
		t.Fatalf("a window that held: %s %+v %s", r.Outcome, r.Evidence, r.Error)
	}
	// Broken for three scrapes, then good again.
	env.exporter.Set("window_value", 0)
	time.Sleep(3 * time.Second)
	env.exporter.Set("window_value", 1)
	env.waitForValue(t, "window_value", 1)
	r := once.Run(context.Background(), "t", []spec.Check{check(5 * time.Second)}).Checks[0]
	if r.Outcome != Fail || !strings.Contains(r.Evidence.Actual, "broken at") || len(r.Evidence.Diff) == 0 ||
		!strings.Contains(r.Evidence.Diff[0], "window_value{") || !strings.Contains(r.Evidence.Diff[0], "} = 0") {
		t.Fatalf("a window broken in the middle: %s %+v %s", r.Outcome, r.Evidence, r.Error)
	}
	// Polling re-evaluates the window: it holds again once the break is older than it.
	r = gradeOne(t, env.targets, check(20*time.Second))
	if r.Outcome != Pass || r.Attempts < 2 {
		t.Fatalf("after the break left the window: %s after %d attempts %+v", r.Outcome, r.Attempts, r.Evidence)
	}
	// A window over a series that does not exist is no data: an error.
	missing := promCheck("missing-window", "no_such_series", func(c *spec.Check) { condition(">", 0)(c); c.PromQL.For = window })
	if r := gradeOne(t, env.targets, missing); r.Outcome != Error || !strings.Contains(r.Error, "no data") {
		t.Fatalf("a window without data: %s %+v %s", r.Outcome, r.Evidence, r.Error)
	}
}

// TestPrometheusStoppedMidRun: checks still polling when Prometheus goes away end as
// errors, including one whose condition (empty) would pass on no data.
func TestPrometheusStoppedMidRun(t *testing.T) {
	t.Parallel()
	env := ownPrometheus(t)
	env.waitForValue(t, "own_value", 0)
	checks := []spec.Check{
		promCheck("would-fail", "own_value", func(c *spec.Check) {
			condition("==", 1)(c)
			c.Timeout, c.Interval = 6*time.Second, 250*time.Millisecond
		}),
		promCheck("would-pass-on-nothing", "does_not_exist", func(c *spec.Check) {
			c.PromQL.Empty = true
			c.Timeout, c.Interval, c.Consecutive = 6*time.Second, 250*time.Millisecond, 20
		}),
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		env.prom.Stop()
	}()
	report := (&Grader{Targets: env.targets}).Run(context.Background(), "t", checks)
	for _, r := range report.Checks {
		if r.Outcome != Error || !strings.Contains(r.Error, "unreachable") || r.Awarded != 0 {
			t.Errorf("%s: %s, %q, awarded %d; want an error saying Prometheus is unreachable", r.ID, r.Outcome, r.Error, r.Awarded)
		}
	}
	if errs.KindOf(report.Err()) != errs.ChecksErrored {
		t.Errorf("report error = %v, want ChecksErrored", report.Err())
	}
}

// testAlertPendingThenFiring: an alert rule goes pending, then fires; checks waiting for
// each state pass in that order.
func testAlertPendingThenFiring(t *testing.T, env *promEnv) {
	alert := func(id, state string, labels map[string]string) spec.Check {
		c := spec.Check{ID: id, Timeout: 30 * time.Second, Interval: 200 * time.Millisecond,
			Alert: &spec.AlertCheck{Name: "DemoHigh", State: state, Labels: labels}}
		c.Default()
		return c
	}
	if r := gradeOne(t, env.targets, alert("inactive", spec.AlertInactive, nil)); r.Outcome != Pass || r.Evidence.Actual != "inactive" {
		t.Fatalf("before the value rises: %s %+v %s", r.Outcome, r.Evidence, r.Error)
	}
	env.exporter.Set("alert_value", 1)
	recorder := &event.Recorder{}
	report := (&Grader{Targets: env.targets, Events: recorder}).Run(context.Background(), "t", []spec.Check{
		alert("pending", spec.AlertPending, nil),
		alert("firing", spec.AlertFiring, map[string]string{"severity": "page"}),
	})
	pending, firing := report.Checks[0], report.Checks[1]
	if pending.Outcome != Pass || firing.Outcome != Pass {
		t.Fatalf("pending: %s %+v; firing: %s %+v", pending.Outcome, pending.Evidence, firing.Outcome, firing.Evidence)
	}
	if pending.Duration >= firing.Duration {
		t.Errorf("pending was seen after %s, firing after %s: pending must come first", pending.Duration, firing.Duration)
	}
	wrongLabels := alert("other-severity", spec.AlertFiring, map[string]string{"severity": "ticket"})
	wrongLabels.Timeout = time.Second
	if r := gradeOne(t, env.targets, wrongLabels); r.Outcome != Fail || r.Evidence.Actual != "inactive" {
		t.Errorf("an alert with other labels: %s %+v", r.Outcome, r.Evidence)
	}
	missing := alert("no-rule", spec.AlertInactive, nil)
	missing.Alert.Name, missing.Timeout = "NoSuchAlert", time.Second
	if r := gradeOne(t, env.targets, missing); r.Outcome != Error || !strings.Contains(r.Error, `no alerting rule named "NoSuchAlert"`) {
		t.Errorf("a rule that does not exist: %s %q", r.Outcome, r.Error)
	}
}

// testSlowCheckDoesNotHoldOthers: with two workers, a check that polls until its
// timeout holds one of them; the fast checks all finish on the other before it ends.
func testSlowCheckDoesNotHoldOthers(t *testing.T, env *promEnv) {
	env.exporter.Set("speed_value", 1)
	env.waitForValue(t, "speed_value", 1)
	slow := promCheck("slow", "speed_value", func(c *spec.Check) {
		condition("==", 2)(c)
		c.Timeout, c.Interval = 5*time.Second, 500*time.Millisecond
	})
	checks := []spec.Check{slow}
	for _, id := range []string{"fast-1", "fast-2", "fast-3", "fast-4", "fast-5", "fast-6"} {
		checks = append(checks, promCheck(id, "speed_value", condition("==", 1)))
	}
	recorder := &event.Recorder{}
	report := (&Grader{Targets: env.targets, Workers: 2, Events: recorder}).Run(context.Background(), "t", checks)
	if report.Checks[0].Outcome != Fail || report.Checks[0].Duration < slow.Timeout-slow.Interval {
		t.Fatalf("the slow check: %s after %s", report.Checks[0].Outcome, report.Checks[0].Duration)
	}
	finished := map[string]time.Time{}
	for _, e := range recorder.Events() {
		if e.Type == event.StepDone || e.Type == event.StepFail {
			finished[e.Step] = e.Time
		}
	}
	for _, r := range report.Checks[1:] {
		if r.Outcome != Pass || r.Duration > slow.Timeout/2 {
			t.Errorf("%s: %s after %s, want a pass well within the slow check's %s", r.ID, r.Outcome, r.Duration, slow.Timeout)
		}
		if !finished[r.ID].Before(finished["slow"]) {
			t.Errorf("%s finished after the slow check", r.ID)
		}
	}
}
