package grade

import (
	"fmt"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/junit"
)

// JUnit renders the report as JUnit XML, the test-results format GitHub Actions
// reporters and GitLab (artifacts:reports:junit) display: one testcase per check,
// <failure> for fail and <error> for error, times in seconds.
func (r *Report) JUnit() ([]byte, error) {
	suite := junit.Suite{
		Name: r.Name, Time: junit.Seconds(r.Duration),
		Properties: []junit.Property{{Name: "score", Value: fmt.Sprintf("%d/%d (%s%%)", r.Score.Awarded, r.Score.Total, formatPercent(r.Score.Percent))}},
	}
	for i := range r.Checks {
		suite.Cases = append(suite.Cases, junitTestCase(r.Name, &r.Checks[i]))
	}
	return junit.Encode("lab grade", r.Duration, suite)
}

func junitTestCase(suite string, c *Result) junit.Case {
	tc := junit.Case{Name: c.ID, Classname: "lab.grade." + suite, Time: junit.Seconds(c.Duration)}
	details := evidenceText(c)
	switch c.Outcome {
	case Fail:
		tc.Failure = &junit.Message{Message: c.summary(), Type: "fail", Text: details}
	case Error:
		tc.Error = &junit.Message{Message: c.summary(), Type: "error", Text: details}
	default:
		tc.SystemOut = &junit.Text{Text: details}
	}
	return tc
}

// evidenceText is a result's evidence as plain lines, for JUnit bodies.
func evidenceText(c *Result) string {
	var b strings.Builder
	line := func(key, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\n", key, value)
		}
	}
	line("description", c.Description)
	line("query", c.Evidence.Query)
	line("object", c.Evidence.Object)
	line("expected", c.Evidence.Expected)
	line("actual", c.Evidence.Actual)
	for _, d := range c.Evidence.Diff {
		line("diff", d)
	}
	line("error", c.Error)
	line("points", fmt.Sprintf("%d/%d", c.Awarded, c.Points))
	line("hint", c.Hint)
	return b.String()
}

// Markdown renders the report as a GitHub-flavoured markdown table and the score, for
// pull-request comments and GitHub step summaries ($GITHUB_STEP_SUMMARY).
func (r *Report) Markdown() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "### lab grade: %s\n\n", markdownCell(r.Name))
	b.WriteString("| Check | Result | Points | Time | Evidence |\n|---|---|---:|---:|---|\n")
	for i := range r.Checks {
		c := &r.Checks[i]
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %s | %s |\n", markdownCell(c.ID), resultBadge(c.Outcome),
			c.Awarded, c.Points, FormatDuration(c.Duration), markdownEvidence(c))
	}
	fmt.Fprintf(&b, "\n**Score: %d/%d (%s%%)**: %s\n", r.Score.Awarded, r.Score.Total, formatPercent(r.Score.Percent), r.Summary.String())
	var hints []string
	for _, c := range r.Checks {
		if c.Hint != "" {
			hints = append(hints, fmt.Sprintf("- **%s**: %s", markdownCell(c.ID), markdownCell(c.Hint)))
		}
	}
	if len(hints) > 0 {
		b.WriteString("\nHints:\n\n" + strings.Join(hints, "\n") + "\n")
	}
	return []byte(b.String())
}

func resultBadge(o Outcome) string {
	switch o {
	case Pass:
		return "✅ pass"
	case Fail:
		return "❌ fail"
	}
	return "⚠️ error"
}

// markdownEvidence is the one-line summary with each difference on its own line.
func markdownEvidence(c *Result) string {
	parts := []string{markdownCell(c.summary())}
	for _, d := range c.Evidence.Diff {
		parts = append(parts, "• "+markdownCell(d))
	}
	return strings.Join(parts, "<br>")
}

// markdownCell keeps text inside one table cell: no line breaks, escaped pipes, and
// no HTML tags that GitHub would interpret.
var markdownCell = strings.NewReplacer("|", `\|`, "\n", " ", "\r", "", "<", "&lt;", ">", "&gt;").Replace

// String is "3 passed, 1 failed, 1 could not be evaluated".
func (s Summary) String() string {
	parts := []string{fmt.Sprintf("%d passed", s.Passed), fmt.Sprintf("%d failed", s.Failed)}
	if s.Errored > 0 {
		parts = append(parts, fmt.Sprintf("%d could not be evaluated", s.Errored))
	}
	return strings.Join(parts, ", ")
}

// formatPercent drops a zero tenth: 70, 66.6.
func formatPercent(p float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0")
}

// ScoreLine is "Score: 21/30 (70%): 3 passed, 1 failed", as the table ends.
func (r *Report) ScoreLine() string {
	return fmt.Sprintf("Score: %d/%d (%s%%): %s", r.Score.Awarded, r.Score.Total, formatPercent(r.Score.Percent), r.Summary.String())
}

// FormatDuration rounds d for people: "350ms" below a second, "2.4s" above.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
