package chaos

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/grade"
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

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit is the report as JUnit XML, for CI: a test case for the steady state before,
// one per fault (failed when it was not detected and recovered), and one for the
// recovery after.
func (r *GamedayReport) JUnit() ([]byte, error) {
	class := "gameday." + r.Name
	suite := junitSuite{Name: "gameday " + r.Name, Time: seconds(r.Duration)}
	before := junitCase{Name: "steady state before", Classname: class}
	if r.Before != nil {
		before.Time = seconds(r.Before.Duration)
		if r.Outcome == GamedayHypothesisFailed {
			before.Failure = &junitMessage{Message: r.Reason, Text: failingChecks(r.Before)}
		}
	}
	suite.Cases = append(suite.Cases, before)
	for i := range r.Faults {
		suite.Cases = append(suite.Cases, faultCase(class, &r.Faults[i]))
	}
	after := junitCase{Name: "steady state after", Classname: class, Time: seconds(durationOr(r.RecoveredAfter))}
	switch {
	case r.Outcome == GamedayHypothesisFailed:
		after.Skipped = &junitMessage{Message: "no fault was injected"}
	case !r.Recovered:
		after.Failure = &junitMessage{Message: "the steady state did not come back", Text: failingChecks(r.After)}
	}
	if r.Outcome == GamedayAborted || r.Outcome == GamedayFailed || r.Outcome == GamedayInterrupted {
		after.SystemOut = "drill " + r.Outcome + ": " + r.Reason
		if after.Failure == nil {
			after.Failure = &junitMessage{Message: "drill " + r.Outcome, Text: r.Reason}
		}
	}
	suite.Cases = append(suite.Cases, after)
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Skipped != nil {
			suite.Skipped++
		}
	}
	out := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	data, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(data, '\n')...), nil
}

func faultCase(class string, f *FaultOutcome) junitCase {
	c := junitCase{Name: fmt.Sprintf("fault %s (%s)", f.ID, f.Type), Classname: class, Time: seconds(durationOr(f.TimeToRecover)),
		SystemOut: fmt.Sprintf("%s; detected after %s by %s; recovered after %s", f.Summary, FormatOffset(f.TimeToDetect), orDash(f.DetectedBy), FormatOffset(f.TimeToRecover))}
	switch f.Status() {
	case "skipped", "not run":
		c.Skipped = &junitMessage{Message: "the drill ended before this fault"}
	case "error":
		c.Failure = &junitMessage{Message: "the fault failed", Text: f.Error}
	case "not detected":
		c.Failure = &junitMessage{Message: "no probe noticed the fault", Text: "neither a failing steady-state probe nor a detect check saw it"}
	case "not recovered":
		c.Failure = &junitMessage{Message: "the steady state did not come back after the fault"}
	}
	return c
}

func durationOr(d *time.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return *d
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

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
