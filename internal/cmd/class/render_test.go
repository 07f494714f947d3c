package class

import (
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/class"
	"github.com/cloudnativelab/lab/internal/golden"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/ui"
)

// fixedBoard is a class of three: one passing, one failing a check, one whose lab
// does not answer.
func fixedBoard() *class.Scoreboard {
	result := func(id string, o grade.Outcome, points, awarded int, why string) grade.Result {
		return grade.Result{ID: id, Type: "resource", Severity: "error", Outcome: o, Points: points, Awarded: awarded, Error: why}
	}
	report := func(a, b grade.Result) *grade.Report {
		return grade.NewReport("week2", []grade.Result{a, b}, time.Second)
	}
	at := time.Date(2026, 12, 6, 10, 30, 0, 0, time.UTC)
	student := func(name string, r *grade.Report, since time.Duration) class.StudentScore {
		return class.StudentScore{Student: name, Lab: "k8s101-" + name, Report: r, LastProgress: at.Add(-since),
			SinceProgress: since, SinceProgressSeconds: int64(since / time.Second)}
	}
	return &class.Scoreboard{Class: "k8s101", Checks: "week2", GradedAt: at, Students: []class.StudentScore{
		student("student01", report(result("deployed", grade.Pass, 10, 10, ""), result("scaled", grade.Pass, 20, 20, "")), 0),
		student("student02", report(result("deployed", grade.Pass, 10, 10, ""), result("scaled", grade.Fail, 20, 0, "")), 4*time.Minute),
		student("student03", report(result("deployed", grade.Error, 10, 0, "lab k8s101-student03 does not answer"),
			result("scaled", grade.Error, 20, 0, "lab k8s101-student03 does not answer")), 30*time.Minute),
	}}
}

// TestScoreboardGoldens: the table, the JSON and the page an instructor projects.
func TestScoreboardGoldens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ format, golden string }{
		{FormatTable, "testdata/scoreboard.txt"},
		{FormatJSON, "testdata/scoreboard.json"},
		{FormatHTML, "testdata/scoreboard.html"},
	} {
		io, _, out, _ := ui.Test()
		if err := render(io, tc.format, fixedBoard()); err != nil {
			t.Fatal(err)
		}
		golden.Compare(t, tc.golden, out.Bytes())
	}
}
