package scenario

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/ui"
)

// next is how printed suggestions name the lab: nothing for the default lab.
type next struct{ nameFlag string }

func nextFor(c *Common) next {
	if c.Name == "" {
		return next{}
	}
	return next{nameFlag: " --name " + c.Name}
}

func (n next) cmd(sub string) string { return "lab scenario " + sub + n.nameFlag }

// writeStep prints a step as a trainee reads it, and what to run when done.
func writeStep(w io.Writer, v *scenario.StepView, n next) {
	fmt.Fprintf(w, "\nStep %d of %d: %s (%s)\n\n%s\n", v.Number, v.Total, v.Title, ui.Count(v.Points, "point"), v.Text)
	if v.Round != "" {
		fmt.Fprintf(w, "\nChecking this step runs a chaos round (%s): the checks must hold while it lasts.\n", v.Round)
	}
	if v.Solution != "" {
		fmt.Fprintf(w, "\n[instructor] Solution:\n%s\n", indent(v.Solution))
	}
	if len(v.Hints) > 0 {
		fmt.Fprintf(w, "\n[instructor] Hints, in the order trainees get them:\n")
		for i, h := range v.Hints {
			fmt.Fprintf(w, "  %d. %s\n", i+1, h)
		}
	}
	fmt.Fprintf(w, "\nWhen you are done: %s\nStuck?            %s\n", n.cmd("check"), n.cmd("hint"))
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// checkTable is a step's checks: CHECK, RESULT, POINTS, EVIDENCE.
func checkTable(rep *scenario.StepReport) *ui.Table {
	t := ui.NewTable("CHECK", "RESULT", "POINTS", "EVIDENCE")
	for _, c := range rep.Checks {
		t.AddRow(c.Result.ID, string(c.Outcome), fmt.Sprintf("%d/%d", c.Result.Awarded, c.Result.Points), ui.Truncate(evidence(c), 90))
	}
	return t
}

// evidence is a check's evidence in one line: why it was skipped or errored, else
// what was expected and what was found.
func evidence(c scenario.CheckResult) string {
	switch c.Outcome {
	case scenario.Skipped, scenario.Error:
		return c.Reason
	case scenario.Pass:
		return c.Result.Evidence.Actual
	}
	return c.Result.Summary()
}

// checkDetails lists, for each check that did not pass, what it looked at and each
// difference: what a trainee needs to fix it (hints come from lab scenario hint).
func checkDetails(rep *scenario.StepReport) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		if c.Outcome == scenario.Pass || c.Outcome == scenario.Skipped {
			continue
		}
		r := c.Result
		fmt.Fprintf(&b, "\n%s (%s): %s\n", r.ID, c.Outcome, evidence(c))
		if r.Description != "" {
			fmt.Fprintf(&b, "  wanted: %s\n", r.Description)
		}
		for _, line := range r.Evidence.DetailLines() {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	return b.String()
}

// writeCheck prints the outcome of `lab scenario check` (or of the check after a solve).
func writeCheck(io *ui.IO, out *scenario.CheckOutcome, n next) error {
	w := io.Out
	rep := out.Report
	total := len(out.State.Steps)
	if rep == nil {
		writeFinished(w, out.Scenario.Metadata.Name, out.Score, out.State, n)
		return nil
	}
	for _, r := range rep.Round {
		fmt.Fprintf(w, "Chaos round: %s\n", r)
	}
	if err := io.Printer(ui.FormatTable).Print(rep, func() ui.View { return checkTable(rep) }); err != nil {
		return err
	}
	fmt.Fprint(w, checkDetails(rep))
	if skipped := rep.Count(scenario.Skipped); skipped > 0 {
		fmt.Fprintf(w, "\n%s skipped: this lab cannot evaluate them (%s not awarded).\n", ui.Count(skipped, "check"), ui.Count(rep.SkippedPoints, "point"))
	}
	if !rep.Passed {
		fmt.Fprintf(w, "\nStep %d of %d is not done yet: %d/%d points.\n", rep.Index+1, total, rep.Awarded, rep.Points)
		if out.HintsLeft > 0 {
			fmt.Fprintf(w, "Stuck? `%s` gives a hint (%d left for this step).\n", n.cmd("hint"), out.HintsLeft)
		} else {
			fmt.Fprintf(w, "No hints left: `%s` shows and applies the solution (it earns no points).\n", n.cmd("solve"))
		}
		return nil
	}
	ss := out.State.Steps[rep.Index]
	fmt.Fprintf(w, "\n✓ Step %d of %d done: %s. Score so far: %d/%d.\n", rep.Index+1, total, earned(ss), out.Score.Awarded, out.Score.Total)
	if out.Finished {
		writeFinished(w, out.Scenario.Metadata.Name, out.Score, out.State, n)
		return nil
	}
	writeStep(w, out.Next, n)
	return nil
}

func earned(ss scenario.StepState) string {
	if ss.Solved {
		return fmt.Sprintf("solved by lab, 0/%d points", ss.Points)
	}
	return fmt.Sprintf("%d/%d points", ss.Awarded, ss.Points)
}

// writeFinished prints the final score.
func writeFinished(w io.Writer, name string, sc scenario.Score, st *scenario.State, n next) {
	took := ""
	if st.FinishedAt != nil {
		took = " in " + roundDuration(st.FinishedAt.Sub(st.StartedAt))
	}
	fmt.Fprintf(w, "\n★ Scenario %s complete%s. Final score: %d/%d (%d%%).\n", name, took, sc.Awarded, sc.Total, sc.Percent())
	if sc.Skipped > 0 {
		fmt.Fprintf(w, "%s not graded: their checks need a real cluster (`lab up --provider kind`).\n", ui.Count(sc.Skipped, "point"))
	}
	fmt.Fprintf(w, "Next: `%s` shows other scenarios; `%s` starts this one over.\n", "lab scenario list", n.cmd("reset"))
}

// humanDuration writes a scenario's expected duration as people do: 30m, 1h30m.
func humanDuration(d time.Duration) string {
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// roundDuration rounds a time spent to the second: tenths mean nothing to a trainee.
func roundDuration(d time.Duration) string { return d.Round(time.Second).String() }

// testTable is a self-test: one row per check.
func testTable(reports []*scenario.TestReport) *ui.Table {
	t := ui.NewTable("SCENARIO", "STEP", "CHECK", "BEFORE", "AFTER", "VERDICT", "WHY")
	for _, r := range reports {
		if r.Error != "" {
			t.AddRow(r.Scenario, "", "", "", "", "error", ui.Truncate(r.Error, 100))
		}
		for _, c := range r.Checks {
			t.AddRow(r.Scenario, fmt.Sprint(c.Step), c.ID, string(c.Before), string(c.After), string(c.Verdict), ui.Truncate(c.Why, 160))
		}
	}
	return t
}
