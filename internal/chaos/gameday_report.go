package chaos

import (
	"fmt"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/junit"
)

// FormatOffset writes a duration the way reports show it: 1.25s, 2m3.5s, "-" for nil.
func FormatOffset(d *time.Duration) string {
	if d == nil {
		return "-"
	}
	return grade.FormatDuration(*d)
}

// Status is a fault's line in a report: what became of it.
func (f *FaultOutcome) Status() string {
	switch {
	case f.Skipped:
		return "skipped"
	case f.Error != "":
		return "error"
	case f.Injected == nil:
		return "not run"
	case f.TimeToDetect == nil:
		return "not detected"
	case f.TimeToRecover == nil:
		return "not recovered"
	default:
		return "recovered"
	}
}

// JUnit is the report as JUnit XML, for CI: a test case for the steady state before,
// one per fault (failed when it was not detected and recovered), and one for the
// recovery after.
func (r *GamedayReport) JUnit() ([]byte, error) {
	class := "gameday." + r.Name
	suite := junit.Suite{Name: "gameday " + r.Name, Time: junit.Seconds(r.Duration)}
	before := junit.Case{Name: "steady state before", Classname: class}
	if r.Before != nil {
		before.Time = junit.Seconds(r.Before.Duration)
		if r.Outcome == GamedayHypothesisFailed {
			before.Failure = &junit.Message{Message: r.Reason, Text: failingChecks(r.Before)}
		}
	}
	suite.Cases = append(suite.Cases, before)
	for i := range r.Faults {
		suite.Cases = append(suite.Cases, faultCase(class, &r.Faults[i]))
	}
	after := junit.Case{Name: "steady state after", Classname: class, Time: junit.Seconds(durationOr(r.RecoveredAfter))}
	switch {
	case r.Outcome == GamedayHypothesisFailed:
		after.Skipped = &junit.Message{Message: "no fault was injected"}
	case !r.Recovered:
		after.Failure = &junit.Message{Message: "the steady state did not come back", Text: failingChecks(r.After)}
	}
	if r.Outcome == GamedayAborted || r.Outcome == GamedayFailed || r.Outcome == GamedayInterrupted {
		after.SystemOut = &junit.Text{Text: "drill " + r.Outcome + ": " + r.Reason}
		if after.Failure == nil {
			after.Failure = &junit.Message{Message: "drill " + r.Outcome, Text: r.Reason}
		}
	}
	suite.Cases = append(suite.Cases, after)
	return junit.Encode(suite.Name, r.Duration, suite)
}

func faultCase(class string, f *FaultOutcome) junit.Case {
	c := junit.Case{Name: fmt.Sprintf("fault %s (%s)", f.ID, f.Type), Classname: class, Time: junit.Seconds(durationOr(f.TimeToRecover)),
		SystemOut: &junit.Text{Text: fmt.Sprintf("%s; detected after %s by %s; recovered after %s", f.Summary, FormatOffset(f.TimeToDetect), orDash(f.DetectedBy), FormatOffset(f.TimeToRecover))}}
	switch f.Status() {
	case "skipped", "not run":
		c.Skipped = &junit.Message{Message: "the drill ended before this fault"}
	case "error":
		c.Failure = &junit.Message{Message: "the fault failed", Text: f.Error}
	case "not detected":
		c.Failure = &junit.Message{Message: "no probe noticed the fault", Text: "neither a failing steady-state probe nor a detect check saw it"}
	case "not recovered":
		c.Failure = &junit.Message{Message: "the steady state did not come back after the fault"}
	}
	return c
}

func durationOr(d *time.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return *d
}

// Markdown is the report for people reading it later: the outcome, a table of faults
// with their times to detect and recover, and the timeline.
func (r *GamedayReport) Markdown() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Gameday %s: %s\n\n", r.Name, r.Outcome)
	fmt.Fprintf(&b, "Lab **%s**, seed **%d** (`--seed %d` replays its choices), started %s, lasted %s.\n",
		r.Lab, r.Seed, r.Seed, r.StartedAt.Format(time.RFC3339), grade.FormatDuration(r.Duration))
	if r.Reason != "" {
		fmt.Fprintf(&b, "\n**%s**\n", mdCell(r.Reason))
	}
	if r.Recovered {
		fmt.Fprintf(&b, "\nThe steady state held again %s after the last fault.\n", FormatOffset(r.RecoveredAfter))
	}
	b.WriteString("\n## Faults\n\n| fault | type | injected | reverted | time to detect | detected by | time to recover | status |\n|---|---|---:|---:|---:|---|---:|---|\n")
	for _, f := range r.Faults {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.ID, f.Type, FormatOffset(f.Injected), FormatOffset(f.Reverted),
			FormatOffset(f.TimeToDetect), mdCell(orDash(f.DetectedBy)), FormatOffset(f.TimeToRecover), f.Status())
	}
	b.WriteString("\n## Timeline\n\n| at | event | what |\n|---:|---|---|\n")
	for _, m := range r.Timeline {
		at := m.At
		fmt.Fprintf(&b, "| %s | %s | %s |\n", FormatOffset(&at), m.Event, mdCell(m.Text))
	}
	return []byte(b.String())
}

func mdCell(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }
