package grade

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// writeReport writes the report in the chosen format to stdout, or to --out; with
// --out, people still get the table on stdout.
func writeReport(f *cmdutil.Factory, opts *Options, report *grade.Report) error {
	if opts.OutPath == "" {
		return render(f.IO, opts.Output, report)
	}
	var buf bytes.Buffer
	if err := render(&ui.IO{Out: &buf}, opts.Output, report); err != nil {
		return err
	}
	if err := os.WriteFile(opts.OutPath, buf.Bytes(), 0o644); err != nil {
		return errs.Wrap(errs.Internal, err, "cannot write the report", "")
	}
	f.IO.Notef("Wrote the %s report to %s", opts.Output, opts.OutPath)
	if opts.Output == FormatTable {
		return nil
	}
	return render(f.IO, FormatTable, report)
}

// render writes the report to io.Out in a format.
func render(io *ui.IO, format string, report *grade.Report) error {
	switch format {
	case FormatJSON:
		return io.Printer(ui.FormatJSON).Print(report, nil)
	case FormatJUnit:
		data, err := report.JUnit()
		if err != nil {
			return err
		}
		_, err = io.Out.Write(data)
		return err
	case FormatMarkdown:
		_, err := io.Out.Write(report.Markdown())
		return err
	}
	if err := io.Printer(ui.FormatTable).Print(report, func() ui.View { return Table(report) }); err != nil {
		return err
	}
	_, err := fmt.Fprint(io.Out, Details(report)+"\n"+report.ScoreLine()+"\n")
	return err
}

// evidenceWidth bounds the EVIDENCE column; the details below the table have the rest.
const evidenceWidth = 100

// Table is the report as rows: CHECK, RESULT, POINTS, TIME, EVIDENCE.
func Table(report *grade.Report) *ui.Table {
	t := ui.NewTable("CHECK", "RESULT", "POINTS", "TIME", "EVIDENCE")
	for i := range report.Checks {
		c := &report.Checks[i]
		t.AddRow(c.ID, string(c.Outcome), fmt.Sprintf("%d/%d", c.Awarded, c.Points), grade.FormatDuration(c.Duration), ui.Truncate(c.Summary(), evidenceWidth))
	}
	return t
}

// Details lists, for each check that did not pass, what it looked at, each difference
// and the next hint: what a trainee needs to fix it.
func Details(report *grade.Report) string {
	var b strings.Builder
	for _, c := range report.Checks {
		if c.Outcome == grade.Pass {
			continue
		}
		fmt.Fprintf(&b, "\n%s (%s): %s\n", c.ID, c.Outcome, c.Summary())
		for _, line := range c.Evidence.DetailLines() {
			fmt.Fprintf(&b, "  %s\n", line)
		}
		if c.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", c.Hint)
		}
	}
	return b.String()
}

// watch evaluates every check once per round and redraws the table until all pass or
// the user stops it; the round's pause is the shortest interval of the checks.
func watch(ctx context.Context, f *cmdutil.Factory, opts *Options, checks *spec.Checks, targets *grade.Targets) error {
	g := &grade.Grader{Targets: targets, Workers: opts.Workers, Once: true}
	pause := roundPause(checks.Spec.Checks)
	for round := 1; ; round++ {
		report := g.Run(ctx, checks.Metadata.Name, checks.Spec.Checks)
		if ctx.Err() != nil {
			return &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
		}
		if err := redraw(f.IO, report, round); err != nil {
			return err
		}
		if report.Summary.Passed == len(report.Checks) {
			if opts.OutPath != "" {
				return writeReport(f, &Options{Output: FormatTable, OutPath: opts.OutPath}, report)
			}
			return nil
		}
		f.IO.Notef("Round %d: %s. Next round in %s; Ctrl-C stops.", round, report.Summary, pause)
		select {
		case <-ctx.Done():
			return &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
		case <-time.After(pause):
		}
	}
}

// redraw clears a terminal before drawing the round's table; a log gets one table per
// round, one after the other.
func redraw(io *ui.IO, report *grade.Report, round int) error {
	if !io.ClearScreen() && round > 1 {
		fmt.Fprintln(io.Out)
	}
	return render(io, FormatTable, report)
}

func roundPause(checks []spec.Check) time.Duration {
	pause := spec.DefaultCheckInterval
	for _, c := range checks {
		pause = min(pause, c.Interval)
	}
	return pause
}
