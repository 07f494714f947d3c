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

// fixedScenarioBoard is a scenario's board: points per step, one student on step 2,
// one done, one whose lab runs no scenario.
func fixedScenarioBoard() *class.Scoreboard {
	check := func(id string, o grade.Outcome, points int) grade.Result {
		r := grade.Result{ID: id, Type: "resource", Severity: "error", Outcome: o, Points: points}
		if o == grade.Pass {
			r.Awarded = points
		}
		return r
	}
	at := time.Date(2026, 12, 6, 10, 30, 0, 0, time.UTC)
	student := func(name string, since time.Duration, steps []class.StepScore, results ...grade.Result) class.StudentScore {
		return class.StudentScore{Student: name, Lab: "k8s101-" + name, Steps: steps, Report: grade.NewReport("k8s-basics", results, 0),
			LastProgress: at.Add(-since), SinceProgress: since, SinceProgressSeconds: int64(since / time.Second)}
	}
	return &class.Scoreboard{Class: "k8s101", Checks: "k8s-basics", GradedAt: at, Steps: []string{"Run the hello app", "Scale it to three"},
		Students: []class.StudentScore{
			student("student01", 2*time.Minute, []class.StepScore{{Title: "Run the hello app", Awarded: 20, Points: 20, Passed: true},
				{Title: "Scale it to three", Points: 20}}, check("hello-deployment", grade.Pass, 20), check("three-replicas", grade.Fail, 20)),
			student("student02", 0, []class.StepScore{{Title: "Run the hello app", Awarded: 20, Points: 20, Passed: true},
				{Title: "Scale it to three", Awarded: 20, Points: 20, Passed: true}}, check("hello-deployment", grade.Pass, 20), check("three-replicas", grade.Pass, 20)),
			{Student: "student03", Lab: "k8s101-student03", Error: "no scenario is running on lab k8s101-student03", SinceProgress: 10 * time.Minute,
				SinceProgressSeconds: 600, LastProgress: at.Add(-10 * time.Minute)},
		}}
}

// TestScoreboardGoldens: the table, the JSON and the page an instructor projects, of a
// checks file's board and of a scenario's.
func TestScoreboardGoldens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format, golden string
		board          *class.Scoreboard
	}{
		{FormatTable, "testdata/scoreboard.txt", fixedBoard()},
		{FormatJSON, "testdata/scoreboard.json", fixedBoard()},
		{FormatHTML, "testdata/scoreboard.html", fixedBoard()},
		{FormatTable, "testdata/scenario-board.txt", fixedScenarioBoard()},
		{FormatHTML, "testdata/scenario-board.html", fixedScenarioBoard()},
	} {
		io, _, out, _ := ui.Test()
		if err := render(io, tc.format, tc.board); err != nil {
			t.Fatal(err)
		}
		golden.Compare(t, tc.golden, out.Bytes())
	}
}
