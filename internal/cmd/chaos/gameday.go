package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Report formats of `lab chaos gameday`.
const (
	ReportTable    = "table"
	ReportJSON     = "json"
	ReportJUnit    = "junit"
	ReportMarkdown = "markdown"
)

var reportFormats = []string{ReportTable, ReportJSON, ReportJUnit, ReportMarkdown}

// GamedayOptions of `lab chaos gameday`.
type GamedayOptions struct {
	Name        string
	File        string
	Seed        int64
	SeedSet     bool
	Output      string
	MetricsAddr string
	GrafanaURL  string
}

// NewGamedayCmd builds `lab chaos gameday`.
func NewGamedayCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &GamedayOptions{}
	cmd := &cobra.Command{
		Use:   "gameday FILE",
		Short: "Run a chaos drill: steady state, a timeline of faults, detection and recovery times",
		Long: `Run a gameday (kind: Gameday): verify the steady-state hypothesis (grading checks),
inject the timeline's faults at their offsets while probing the steady state, abort
(reverting every fault at once) when an abort condition holds, revert each fault after
its duration, and verify that the steady state comes back.

The report gives, per fault, the time to detect (the first failing probe, or the first
detect check that passes, such as an alert firing) and the time to recover (the first
probe after that at which the steady state held again), and the drill's timeline.

Before anything is touched, every fault of the timeline is planned against the cluster
and put through the guard rails (protected namespaces, blast radius, capacity, one fault
per object): a refusal is reported at its fault's line, and nothing is injected.

Exit codes: 0 when the steady state came back after every fault; 2 when the file or one
of its faults is refused (nothing was injected); 3 when the hypothesis did not hold
before (nothing was injected), the drill was aborted, or the steady state did not come
back; 4 when the steady state could not be evaluated; 130 on Ctrl-C (every fault is
reverted first).`,
		Example: `  lab chaos gameday drills/cart.yaml
  lab chaos gameday drills/cart.yaml --seed 42 -o markdown > report.md
  lab chaos gameday drills/cart.yaml --yes -o junit > gameday.xml`,
		Args: gamedayArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, opts.SeedSet = args[0], cmd.Flags().Changed("seed")
			return runGameday(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&opts.Seed, "seed", 0, "seed of every random choice of the drill (default: the file's, else a new one, printed)")
	// A local -o: the report has formats of its own (the global one has table, json, yaml).
	fl.StringVarP(&opts.Output, "output", "o", ReportTable, "report format: "+strings.Join(reportFormats, ", "))
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve lab's chaos metrics on this address during the drill (e.g. 127.0.0.1:9464)")
	fl.StringVar(&opts.GrafanaURL, "grafana-url", "", "annotate each fault in this Grafana (monitoring stack)")
	cmd.RegisterFlagCompletionFunc("output", cmdutil.FixedCompletion(reportFormats...))
	cmd.MarkFlagFilename("output")
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func gamedayArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return errs.Invalidf("see `"+cmd.CommandPath()+" --help`", "%s needs exactly one gameday file", cmd.CommandPath())
	}
	return nil
}

func runGameday(ctx context.Context, f *cmdutil.Factory, opts *GamedayOptions) error {
	if !slices.Contains(reportFormats, opts.Output) {
		return errs.Invalidf("table is for people; json, junit and markdown are for CI and scripts",
			"unknown report format %q: valid formats are %s", opts.Output, strings.Join(reportFormats, ", "))
	}
	g, err := spec.LoadGamedayFile(opts.File, chaos.CheckFault)
	if err != nil {
		return err
	}
	l, err := resolveLab(ctx, f, opts.Name)
	if err != nil {
		return err
	}
	progress := f.IO.Progress(ui.FormatTable) // to stderr, whatever the report format
	defer progress.Close()
	engine := newEngine(f, progress)
	stop, err := serveMetrics(engine, opts.MetricsAddr)
	if err != nil {
		return err
	}
	defer stop()
	setUpGrafana(engine, l, opts.GrafanaURL)
	run := chaos.GamedayOptions{Gameday: g, File: opts.File}
	if opts.SeedSet {
		run.Seed = &opts.Seed
	}
	report, runErr := engine.Gameday(ctx, l, run)
	progress.Close()
	if report == nil {
		return runErr
	}
	if err := writeGamedayReport(f.IO, opts.Output, report); err != nil {
		return err
	}
	return runErr
}

func writeGamedayReport(io *ui.IO, format string, r *chaos.GamedayReport) error {
	switch format {
	case ReportJSON:
		return io.Printer(ui.FormatJSON).Print(r, nil)
	case ReportJUnit:
		data, err := r.JUnit()
		if err != nil {
			return err
		}
		_, err = io.Out.Write(data)
		return err
	case ReportMarkdown:
		_, err := io.Out.Write(r.Markdown())
		return err
	}
	return printGamedayTables(io, r)
}

// printGamedayTables writes the report for a terminal: a summary, the faults, the
// timeline.
func printGamedayTables(io *ui.IO, r *chaos.GamedayReport) error {
	p := io.Printer(ui.FormatTable)
	views := []ui.View{gamedayDetails(r), faultsTable(r)}
	if len(r.Timeline) > 0 {
		views = append(views, timelineTable(r))
	}
	for i, v := range views {
		if i > 0 {
			fmt.Fprintln(io.Out)
		}
		if err := p.Print(r, func() ui.View { return v }); err != nil {
			return err
		}
	}
	return nil
}

func gamedayDetails(r *chaos.GamedayReport) *ui.Details {
	d := ui.NewDetails().
		Add("Gameday", r.Name).
		Add("Lab", r.Lab).
		Add("Outcome", r.Outcome).
		Add("Seed", fmt.Sprintf("%d (--seed %d replays its choices)", r.Seed, r.Seed)).
		Add("Duration", grade.FormatDuration(r.Duration))
	if r.Before != nil {
		d.Add("Steady state before", r.Before.Summary.String())
	}
	if r.Recovered {
		d.Add("Recovered", "after "+chaos.FormatOffset(r.RecoveredAfter)+" from the last fault's end")
	} else if r.Outcome != chaos.GamedayHypothesisFailed {
		d.Add("Recovered", "no")
	}
	if r.Reason != "" {
		d.Note(r.Reason)
	}
	return d
}

func faultsTable(r *chaos.GamedayReport) *ui.Table {
	t := ui.NewTable("FAULT", "TYPE", "INJECTED", "REVERTED", "DETECTED AFTER", "DETECTED BY", "RECOVERED AFTER", "STATUS")
	for _, f := range r.Faults {
		t.AddRow(f.ID, f.Type, chaos.FormatOffset(f.Injected), chaos.FormatOffset(f.Reverted), chaos.FormatOffset(f.TimeToDetect),
			orDash(ui.Truncate(f.DetectedBy, 60)), chaos.FormatOffset(f.TimeToRecover), f.Status())
	}
	return t
}

func timelineTable(r *chaos.GamedayReport) *ui.Table {
	t := ui.NewTable("AT", "EVENT", "WHAT")
	for _, m := range r.Timeline {
		at := m.At
		t.AddRow(chaos.FormatOffset(&at), m.Event, ui.Truncate(m.Text, 120))
	}
	return t
}
