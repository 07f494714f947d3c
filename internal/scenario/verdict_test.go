package scenario

import (
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/grade"
)

func result(outcome grade.Outcome, errText string) grade.Result {
	return grade.Result{ID: "c", Outcome: outcome, Error: errText, Points: 5, Severity: "error",
		Evidence: grade.Evidence{Expected: "3", Actual: "1"}}
}

// TestClassify: only the errors of a lab that cannot evaluate a check at all become
// skipped; every other error stays an error, and nothing becomes a pass.
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   grade.Result
		want Outcome
	}{
		{"pass", result(grade.Pass, ""), Pass},
		{"fail", result(grade.Fail, ""), Fail},
		{"no Prometheus on a simulated lab", result(grade.Error, grade.ErrSimulatedPrometheus.Error()), Skipped},
		{"no container on a simulated lab", result(grade.Error, grade.ErrSimulatedHTTP.Error()), Skipped},
		{"no Alertmanager on a simulated lab", result(grade.Error, grade.ErrSimulatedAlertmanager.Error()), Skipped},
		{"no data", result(grade.Error, "no data: the query returned no series"), Error},
		{"RBAC denied", result(grade.Error, "RBAC denied: pods is forbidden"), Error},
	}
	for _, tt := range tests {
		if got := classify(tt.in).Outcome; got != tt.want {
			t.Errorf("%s: outcome %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	check := func(o Outcome, reason string) CheckResult {
		return CheckResult{Outcome: o, Reason: reason, Result: result(grade.Outcome(o), reason)}
	}
	skip := "needs a real cluster (simulated lab: no Prometheus runs)"
	tests := []struct {
		name          string
		before, after CheckResult
		want          Verdict
		why           string
	}{
		{"fails then passes", check(Fail, ""), check(Pass, ""), Proven, ""},
		{"errors then passes (a rule not loaded yet)", check(Error, "rule not loaded"), check(Pass, ""), Proven, ""},
		{"passes before the solution", check(Pass, ""), check(Pass, ""), Unproven, "passed before the solution"},
		{"fails after the solution", check(Fail, ""), check(Fail, ""), Unproven, "did not pass after the solution (fail: expected 3, got 1)"},
		{"errors after the solution", check(Fail, ""), check(Error, "no data"), Unproven, "did not pass after the solution (error: no data)"},
		{"a field differs after the solution", check(Fail, ""), func() CheckResult {
			c := check(Fail, "")
			c.Result.Evidence.Diff = []string{"spec.replicas: expected 3, got 2"}
			return c
		}(), Unproven, "did not pass after the solution (fail: spec.replicas: expected 3, got 2)"},
		{"skipped on a simulated lab", check(Skipped, skip), check(Skipped, skip), NotRun, skip},
	}
	for _, tt := range tests {
		got, why := verdict(tt.before, tt.after)
		if got != tt.want || !strings.Contains(why, tt.why) {
			t.Errorf("%s: verdict %s (%q), want %s (%q)", tt.name, got, why, tt.want, tt.why)
		}
	}
}

// TestStepReportTotals: skipped checks earn nothing and do not hold a step back; a
// failed check of severity warning does not either.
func TestStepReportTotals(t *testing.T) {
	t.Parallel()
	warn := result(grade.Fail, "")
	warn.Severity = "warning"
	rep := &StepReport{}
	rep.total(&grade.Report{Checks: []grade.Result{
		func() grade.Result { r := result(grade.Pass, ""); r.Awarded = 5; return r }(),
		result(grade.Error, grade.ErrSimulatedHTTP.Error()),
		warn,
	}})
	if !rep.Passed || rep.Awarded != 5 || rep.Points != 15 || rep.SkippedPoints != 5 || rep.Err() != nil {
		t.Errorf("report = %+v, err %v; want passed, 5 of 15 points, 5 skipped", rep, rep.Err())
	}
}

// TestSelfTestMarks: before the solution a failing check is a tick and a passing one a
// cross; after it, the grader's marks stand; a check the lab cannot evaluate is skipped.
func TestSelfTestMarks(t *testing.T) {
	t.Parallel()
	simulated := "error: " + grade.ErrSimulatedPrometheus.Error()
	tests := []struct {
		before bool
		in     event.Event
		want   event.Type
	}{
		{true, event.Event{Type: event.StepFail, Step: "c", Error: "fail: expected exists, got not found"}, event.StepDone},
		{true, event.Event{Type: event.StepFail, Step: "c", Error: "error: rule not loaded"}, event.StepDone},
		{true, event.Event{Type: event.StepDone, Step: "c"}, event.StepFail},
		{true, event.Event{Type: event.StepFail, Step: "c", Error: simulated}, event.StepSkip},
		{true, event.Event{Type: event.StepStart, Step: "c"}, event.StepStart},
		{false, event.Event{Type: event.StepFail, Step: "c", Error: "fail: expected 3, got 2"}, event.StepFail},
		{false, event.Event{Type: event.StepDone, Step: "c"}, event.StepDone},
		{false, event.Event{Type: event.StepFail, Step: "c", Error: simulated}, event.StepSkip},
	}
	for _, tt := range tests {
		rec := &event.Recorder{}
		(&Engine{GradeEvents: rec}).selfTestEvents(tt.before).Emit(tt.in)
		got := rec.Events()
		if len(got) != 1 || got[0].Type != tt.want || got[0].Step != tt.in.Step {
			t.Errorf("before=%v %s %q -> %+v, want %s", tt.before, tt.in.Type, tt.in.Error, got, tt.want)
		}
	}
	if (&Engine{}).selfTestEvents(true) != nil {
		t.Error("without grade events, a self-test must not invent a sink")
	}
}
