// Package class is `lab class`: an instructor's commands for a room, one lab per
// student: up, grade (a scoreboard), down.
package class

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/class"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/scenario"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Scoreboard formats of `lab class grade`.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatHTML  = "html"
)

var formats = []string{FormatTable, FormatJSON, FormatHTML}

// Options of the `lab class` subcommands.
type Options struct {
	Class    string
	Students int
	File     string
	Lab      string
	Provider string
	OutDir   string
	Cards    bool
	// Checks is the checks file lab class grade evaluates.
	Checks  string
	Output  string
	OutPath string
	Workers int
}

// NewCmd builds `lab class` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "class",
		Short: "Run a class: one lab per student, brought up, graded on one scoreboard, and removed together",
		Long: `For an instructor with a room. "lab class up" makes one lab per student, all of
one definition, named <class>-student01, <class>-student02, ...: on a workshop machine
(kind or the simulated cluster) or one cloud cluster each (provider terraform). Each
student gets a kubeconfig file, and with --cards a login card with the first commands.
"lab class grade" grades every student's lab at once and prints a scoreboard (a table,
JSON, or an HTML page to project), of a checks file or of a scenario that "lab class
start" started in every lab; "lab class down" removes every lab of the class.`,
		Example: `  lab class up --name k8s101 --students 12 --lab default --cards
  lab class start k8s-basics --name k8s101
  lab class grade k8s-basics --name k8s101
  lab class grade checks/week2.yaml --name k8s101
  lab class grade checks/week2.yaml --name k8s101 -o html --out scoreboard.html
  lab class down --name k8s101`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newUpCmd(f), newStartCmd(f), newGradeCmd(f), newDownCmd(f))
	return cmd
}

func addClassFlag(cmd *cobra.Command, opts *Options) {
	cmd.Flags().StringVar(&opts.Class, "name", "class", "the class's name; its labs are <name>-student01, ...")
}

func newUpCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "up --students N [-f lab.yaml | --lab NAME]",
		Short: "Bring up one lab per student and write each student's kubeconfig",
		Long: `Brings up one lab per student from one definition, one after the other, then
writes <out>/<student>.kubeconfig (0600) for each, and with --cards <out>/<student>.md,
a login card. The class is recorded first: if it is interrupted, run it again to
finish; "lab class down" removes whatever it started.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUp(cmd.Context(), f, opts) },
	}
	addClassFlag(cmd, opts)
	fl := cmd.Flags()
	fl.IntVar(&opts.Students, "students", 0, fmt.Sprintf("how many students (1 to %d)", class.MaxStudents))
	fl.StringVarP(&opts.File, "file", "f", "", "lab definition file (kind: Lab)")
	fl.StringVar(&opts.Lab, "lab", "", "a lab definition built into lab")
	fl.StringVar(&opts.Provider, "provider", "", "cluster provider of every lab: kind, sim or terraform (default: the definition's)")
	fl.StringVar(&opts.OutDir, "out", "", "folder for the students' kubeconfigs and cards (default: ./<name>-students)")
	fl.BoolVar(&opts.Cards, "cards", false, "also write a login card (markdown) per student")
	cmd.MarkFlagsMutuallyExclusive("file", "lab")
	return cmd
}

func runUp(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	if opts.Students == 0 {
		return errs.Invalidf("lab class up --students 12", "--students N is required: how many labs to make")
	}
	if opts.Provider == spec.ProviderExisting {
		return errs.Invalidf("use kind, sim or terraform", "a class makes a cluster per student; --provider existing adopts one")
	}
	def, source, err := cmdutil.LoadDefinition(opts.File, opts.Lab, f.IO.In)
	if err != nil {
		return err
	}
	if opts.OutDir == "" {
		opts.OutDir = opts.Class + "-students"
	}
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	e := &class.Engine{Labs: f.Manager(progress)}
	c, err := e.Up(ctx, class.UpOptions{Name: opts.Class, Students: opts.Students, Lab: def, Source: source,
		Provider: opts.Provider, OutDir: opts.OutDir, Cards: opts.Cards, Confirm: f.Confirm})
	if err != nil {
		return err
	}
	progress.Close()
	format, err := f.Format()
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(c, func() ui.View { return rosterTable(c) })
}

// rosterTable lists the class's students, their labs and files.
func rosterTable(c *class.Class) ui.View {
	t := ui.NewTable("STUDENT", "LAB", "KUBECONFIG", "CARD")
	for _, s := range c.Students {
		t.AddRow(s.Name, s.Lab, s.Kubeconfig, s.Card)
	}
	return t
}

func newStartCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "start SCENARIO",
		Short: "Start a built-in scenario in every student's lab",
		Long: `Starts the scenario in every student's lab, one after the other, as "lab scenario
start" does in one (its setup, its namespace, the stacks it needs). Students work in
their own cluster; "lab class grade SCENARIO" grades every step in every lab.`,
		Args: cmdutil.OneArg("scenario name", "lab class start k8s-basics --name k8s101"),
		RunE: func(cmd *cobra.Command, args []string) error {
			progress, err := f.Progress()
			if err != nil {
				return err
			}
			defer progress.Close()
			e := &class.Engine{Labs: f.Manager(progress)}
			c, err := e.StartScenario(cmd.Context(), opts.Class, args[0], engines(f, progress), f.Confirm)
			if err != nil {
				return err
			}
			progress.Close()
			f.IO.Notef("Started %s in the %d labs of class %s", args[0], len(c.Students), c.Name)
			return nil
		},
	}
	addClassFlag(cmd, opts)
	return cmd
}

// engines are the factory's scenario engines, bound to a progress sink.
func engines(f *cmdutil.Factory, sink event.Sink) class.ScenarioEngines {
	return func(ctx context.Context, lab string) (*scenario.Engine, error) {
		return f.ScenarioEngine(ctx, lab, sink)
	}
}

func newGradeCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "grade CHECKS_FILE|SCENARIO",
		Short: "Grade every student's lab at once: a scoreboard, and lab grade's exit codes",
		Long: `Evaluates a checks file (kind: Checks, as lab grade takes) against every student's
lab, --workers labs at a time, and prints the scoreboard: per student, each check
(✓ passed, ✗ failed, ! could not be evaluated), the points and how long since the
student's points last went up. With a scenario's name instead (one "lab class start"
started), every step of the scenario running in each lab is graded once, without
moving anyone on, and the scoreboard has a column per step. A student's lab that does not answer makes that
student's checks errors, and no one else's. -o html writes a page to project, which
reloads itself every 30 seconds (run the command again in a loop with --out).

Exit codes as lab grade: 0 when every student passed every check of severity error,
3 when a check failed, 4 when one could not be evaluated (4 wins), 2 for a bad file.`,
		Args: cmdutil.OneArg("checks file or scenario name", "lab class grade checks.yaml --name k8s101"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Checks = args[0]
			return runGrade(cmd.Context(), f, opts)
		},
	}
	addClassFlag(cmd, opts)
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", FormatTable, "scoreboard format: "+strings.Join(formats, ", "))
	fl.StringVar(&opts.OutPath, "out", "", "write the scoreboard to this file instead of stdout")
	fl.IntVar(&opts.Workers, "workers", class.DefaultWorkers, "students' labs graded at once")
	cmd.RegisterFlagCompletionFunc("output", cmdutil.FixedCompletion(formats...))
	return cmd
}

func runGrade(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	if !slices.Contains(formats, opts.Output) {
		return errs.Invalidf("", "unknown scoreboard format %q: valid formats are %s", opts.Output, strings.Join(formats, ", "))
	}
	if opts.Workers < 1 {
		return errs.Invalidf("", "--workers must be at least 1, got %d", opts.Workers)
	}
	board, err := gradeClass(ctx, f, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := render(&ui.IO{Out: &buf}, opts.Output, board); err != nil {
		return err
	}
	if opts.OutPath == "" {
		_, err = f.IO.Out.Write(buf.Bytes())
	} else if err = os.WriteFile(opts.OutPath, buf.Bytes(), 0o644); err == nil {
		f.IO.Notef("Wrote the %s scoreboard to %s", opts.Output, opts.OutPath)
	}
	if err != nil {
		return err
	}
	return board.Err()
}

// gradeClass grades the class with a checks file, or the scenario a name that is not a
// file's names.
func gradeClass(ctx context.Context, f *cmdutil.Factory, opts *Options) (*class.Scoreboard, error) {
	e := &class.Engine{Labs: f.Manager(event.Discard), Workers: opts.Workers}
	if isScenarioName(opts.Checks) {
		return e.GradeScenario(ctx, opts.Class, engines(f, event.Discard))
	}
	checks, err := spec.LoadChecksFile(opts.Checks)
	if err != nil {
		return nil, err
	}
	return e.Grade(ctx, opts.Class, checks)
}

// isScenarioName: not a file, and not written as a path (a checks file that is missing
// is reported as one).
func isScenarioName(arg string) bool {
	_, err := os.Stat(arg)
	return errors.Is(err, fs.ErrNotExist) && !strings.ContainsRune(arg, filepath.Separator) && filepath.Ext(arg) == ""
}

// render writes the scoreboard in a format.
func render(io *ui.IO, format string, board *class.Scoreboard) error {
	switch format {
	case FormatJSON:
		return io.Printer(ui.FormatJSON).Print(board, nil)
	case FormatHTML:
		page, err := board.HTML()
		if err != nil {
			return err
		}
		_, err = io.Out.Write(page)
		return err
	}
	if err := io.Printer(ui.FormatTable).Print(board, func() ui.View { return Scoreboard(board) }); err != nil {
		return err
	}
	if lines := errorLines(board); lines != "" {
		_, err := fmt.Fprint(io.Out, "\n"+lines)
		return err
	}
	return nil
}

// Scoreboard is the class as a table: a row per student, a column per check (or per
// step of a scenario); a student whose lab could not be graded reads "error" throughout.
func Scoreboard(board *class.Scoreboard) ui.View {
	columns := boardColumns(board)
	t := ui.NewTable(append(append([]string{"STUDENT"}, columns...), "POINTS", "SCORE", "LAST PROGRESS")...)
	for _, s := range board.Students {
		row := []string{s.Student}
		switch {
		case s.Report == nil:
			for range columns {
				row = append(row, "error")
			}
			row = append(row, "-", "-")
		default:
			row = append(row, studentCells(board, s)...)
			sc := s.Report.Score
			row = append(row, fmt.Sprintf("%d/%d", sc.Awarded, sc.Total), fmt.Sprintf("%.0f%%", sc.Percent))
		}
		t.AddRow(append(row, grade.FormatDuration(s.SinceProgress)+" ago")...)
	}
	return t
}

// boardColumns are the steps of a scenario's board ("STEP 1", ...), else the checks.
func boardColumns(board *class.Scoreboard) []string {
	var cols []string
	if board.Steps != nil {
		for i := range board.Steps {
			cols = append(cols, fmt.Sprintf("STEP %d", i+1))
		}
		return cols
	}
	for _, s := range board.Students {
		if s.Report == nil {
			continue
		}
		for _, c := range s.Report.Checks {
			cols = append(cols, strings.ToUpper(c.ID))
		}
		break
	}
	return cols
}

// studentCells are a student's step points, or check outcomes.
func studentCells(board *class.Scoreboard, s class.StudentScore) []string {
	var cells []string
	if board.Steps != nil {
		for _, st := range s.Steps {
			cells = append(cells, fmt.Sprintf("%d/%d", st.Awarded, st.Points))
		}
		return cells
	}
	for _, c := range s.Report.Checks {
		cells = append(cells, mark(c.Outcome))
	}
	return cells
}

// errorLines say, under the table, why a student's lab could not be graded.
func errorLines(board *class.Scoreboard) string {
	var b strings.Builder
	for _, s := range board.Students {
		if s.Error != "" {
			fmt.Fprintf(&b, "%s: %s\n", s.Student, s.Error)
		}
	}
	return b.String()
}

func mark(o grade.Outcome) string {
	switch o {
	case grade.Pass:
		return "pass"
	case grade.Fail:
		return "FAIL"
	case grade.Error:
		return "error"
	}
	return string(o) // a scenario's check skipped on a simulated lab

}

func newDownCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove every lab of the class, and the students' kubeconfigs and cards",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			progress, err := f.Progress()
			if err != nil {
				return err
			}
			defer progress.Close()
			c, err := (&class.Engine{Labs: f.Manager(progress)}).Down(cmd.Context(), opts.Class)
			if err != nil {
				return err
			}
			progress.Close()
			f.IO.Notef("Removed class %s: %d labs", c.Name, len(c.Students))
			return nil
		},
	}
	addClassFlag(cmd, opts)
	return cmd
}
