package grade

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// amRules: AMDemo fires as soon as am_value turns positive.
const amRules = `groups:
  - name: test
    rules:
      - alert: AMDemo
        expr: am_value > 0
        labels: {severity: page}
`

func amCheck(id, state string, labels map[string]string, timeout time.Duration) spec.Check {
	c := spec.Check{ID: id, Timeout: timeout, Interval: 200 * time.Millisecond,
		Alert: &spec.AlertCheck{Name: "AMDemo", State: state, Source: spec.AlertSourceAlertmanager, Labels: labels}}
	c.Default()
	if err := spec.ValidateChecks("checks", []spec.Check{c}); err != nil {
		panic(err)
	}
	return c
}

// TestAlertsFromAlertmanager follows one alert through a real Prometheus into a real
// Alertmanager: inactive before it fires, firing once Prometheus sends it, suppressed
// once silenced, and never matched by labels it does not carry.
func TestAlertsFromAlertmanager(t *testing.T) {
	t.Parallel()
	am := testenv.StartAlertmanager(t)
	exporter := testenv.StartExporter(t)
	exporter.Set("am_value", 0)
	prom := testenv.StartPrometheus(t, testenv.PrometheusConfig{
		Targets: []string{exporter.Addr}, Rules: amRules, Alertmanagers: []string{am.Addr()},
	})
	env := newPromEnv(t, prom, exporter)
	env.waitForValue(t, "am_value", 0)
	client := metrics.NewAlertmanager(am.URL)
	targets := &Targets{Alertmanager: client}

	if r := gradeOne(t, targets, amCheck("inactive", spec.AlertInactive, nil, 5*time.Second)); r.Outcome != Pass || r.Evidence.Actual != "inactive" {
		t.Fatalf("before the alert fires: %s %+v %s", r.Outcome, r.Evidence, r.Error)
	}
	exporter.Set("am_value", 1)
	r := gradeOne(t, targets, amCheck("firing", spec.AlertFiring, map[string]string{"severity": "page"}, 30*time.Second))
	if r.Outcome != Pass || !strings.HasPrefix(r.Evidence.Actual, "firing") || r.Evidence.Query != `alert AMDemo{severity="page"} in Alertmanager` {
		t.Fatalf("once Prometheus sends it: %s %+v %s\n%s", r.Outcome, r.Evidence, r.Error, prom.Log())
	}
	if r := gradeOne(t, targets, amCheck("other-labels", spec.AlertFiring, map[string]string{"severity": "ticket"}, time.Second)); r.Outcome != Fail || r.Evidence.Actual != "inactive" {
		t.Errorf("an alert with other labels: %s %+v", r.Outcome, r.Evidence)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := am.Silence(ctx, "AMDemo", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r = gradeOne(t, targets, amCheck("suppressed", spec.AlertSuppressed, nil, 20*time.Second))
	if r.Outcome != Pass || !strings.Contains(r.Evidence.Actual, "silenced by "+id) {
		t.Fatalf("once silenced: %s %+v %s", r.Outcome, r.Evidence, r.Error)
	}
	if r := gradeOne(t, targets, amCheck("still-firing", spec.AlertFiring, nil, time.Second)); r.Outcome != Fail || !strings.HasPrefix(r.Evidence.Actual, "suppressed") {
		t.Errorf("a silenced alert is not firing for Alertmanager: %s %+v", r.Outcome, r.Evidence)
	}
}

func TestAlertmanagerUnreachableOrMissingIsAnError(t *testing.T) {
	t.Parallel()
	closed := metrics.NewAlertmanager("http://127.0.0.1:1")
	cases := []struct {
		name    string
		targets *Targets
		want    string
	}{
		{"refused", &Targets{Alertmanager: closed}, "Alertmanager at http://127.0.0.1:1 is unreachable"},
		{"simulated lab", &Targets{AlertmanagerErr: ErrSimulatedAlertmanager}, "no Alertmanager runs"},
		{"none given", &Targets{}, "pass --alertmanager-url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := gradeOne(t, tc.targets, amCheck("x", spec.AlertFiring, nil, time.Second))
			if r.Outcome != Error || !strings.Contains(r.Error, tc.want) {
				t.Fatalf("outcome %s, error %q; want error containing %q", r.Outcome, r.Error, tc.want)
			}
		})
	}
}
