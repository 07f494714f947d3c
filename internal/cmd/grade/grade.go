// Package grade is `lab grade`: a checks file in, a report with evidence and a score
// out, and an exit code CI can act on.
package grade

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// Report formats of `lab grade`.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
)

var formats = []string{FormatTable, FormatJSON, FormatJUnit, FormatMarkdown}

// Options of `lab grade`.
type Options struct {
	// Target is the checks file.
	Target        string
	Step          int
	StepSet       bool
	Output        string
	OutPath       string
	PrometheusURL string
	// AlertmanagerURL answers alert checks with source: alertmanager.
	AlertmanagerURL string
	Watch           bool
	Name            string
	Workers         int
}

// NewCmd builds `lab grade`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "grade FILE|SCENARIO",
		Short: "Evaluate checks against a lab: evidence, partial credit and an exit code for CI",
		Long: `Evaluate the checks of a checks file (kind: Checks) against a lab or any cluster.

Each check polls until its condition holds (the consecutive number of times asked) or
its timeout ends, and ends as pass, fail or error (could not be evaluated: no data,
Prometheus unreachable, RBAC denied, a simulated lab). The report gives the evidence of
each check (the query or object, what was expected, what was found) and the next hint
of failed ones; the score is the points of passed checks over all points.

promql and alert checks query the lab's Prometheus through a port-forward to the
service monitoring/prometheus, or the one given with --prometheus-url; alert checks
with source: alertmanager read the lab's Alertmanager (monitoring/alertmanager) or
--alertmanager-url. resource and http checks use the lab's kubeconfig, or --kubeconfig
and --context to grade any cluster. On a simulated lab, promql, alert and http checks
end as errors: no Prometheus, no Alertmanager and no container runs there.

Exit codes: 0 when every check of severity error passed, 3 when one failed, 4 when one
could not be evaluated (4 wins over 3: the grade is incomplete), 2 for an invalid file.
A scenario's steps are graded by ` + "`lab scenario check`" + ` (the current step) and
` + "`lab scenario test`" + `. See docs/grading.md.`,
		Example: `  # Grade a checks file against the default lab
  lab grade checks.yaml

  # In CI: JUnit XML for the test-results view, the table in the log
  lab grade checks.yaml -o junit --out grade-report.xml

  # Against a Prometheus you reach yourself, as JSON
  lab grade checks.yaml --prometheus-url http://localhost:9090 -o json

  # Redraw until everything passes (Ctrl-C stops)
  lab grade checks.yaml --watch`,
		Args: exactlyOneTarget,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target = args[0]
			opts.StepSet = cmd.Flags().Changed("step")
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Step, "step", 0, "not supported: grade a scenario step with `lab scenario check`")
	// Shadows the global -o: grade writes report formats of its own.
	fl.StringVarP(&opts.Output, "output", "o", FormatTable, "report format: "+strings.Join(formats, ", "))
	fl.StringVar(&opts.OutPath, "out", "", "write the report to this file instead of stdout (the table still goes to stdout)")
	fl.StringVar(&opts.PrometheusURL, "prometheus-url", "", "query this Prometheus instead of the lab's (http://host:port)")
	fl.StringVar(&opts.AlertmanagerURL, "alertmanager-url", "", "read alerts from this Alertmanager instead of the lab's (http://host:port)")
	fl.BoolVar(&opts.Watch, "watch", false, "evaluate again and redraw until every check passes (Ctrl-C stops)")
	fl.IntVar(&opts.Workers, "workers", grade.DefaultWorkers, "checks evaluated at once")
	f.AddNameFlag(cmd, &opts.Name)
	cmd.MarkFlagFilename("out")
	cmd.RegisterFlagCompletionFunc("output", cmdutil.FixedCompletion(formats...))
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return cmd
}

func exactlyOneTarget(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return errs.Invalidf("see `lab grade --help`", "lab grade takes one checks file, got %d arguments", len(args))
	}
	return nil
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	checks, err := loadTarget(opts.Target)
	if err != nil {
		return err
	}
	conn, err := connectOptions(ctx, f, opts, checks.Spec.Checks)
	if err != nil {
		return err
	}
	targets, closeTargets, err := grade.Connect(ctx, conn, checks.Spec.Checks)
	if err != nil {
		return err
	}
	defer closeTargets()
	if opts.Watch {
		return watch(ctx, f, opts, checks, targets)
	}
	progress := f.IO.Progress(ui.FormatTable) // to stderr, whatever the report format
	g := &grade.Grader{Targets: targets, Workers: opts.Workers, Events: progress}
	report := g.Run(ctx, checks.Metadata.Name, checks.Spec.Checks)
	progress.Close()
	if ctx.Err() != nil {
		return &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
	}
	if err := writeReport(f, opts, report); err != nil {
		return err
	}
	return report.Err()
}

func (o *Options) validate() error {
	switch {
	case !slices.Contains(formats, o.Output):
		return errs.Invalidf("table is for people; json, junit and markdown are for CI and scripts",
			"unknown report format %q: valid formats are %s", o.Output, strings.Join(formats, ", "))
	case o.StepSet:
		return errs.Invalidf("a started scenario's step is graded by `lab scenario check`; `lab scenario test NAME` self-tests every step",
			"--step needs a scenario, and lab grade reads checks files only")
	case o.Workers < 1:
		return errs.Invalidf("", "--workers must be at least 1, got %d", o.Workers)
	case o.Watch && o.Output != FormatTable:
		return errs.Invalidf("leave out -o, or --watch", "--watch redraws a table; it cannot be used with -o %s", o.Output)
	}
	return nil
}

// loadTarget reads the checks file. An argument that is not a file and does not look
// like a path would be a scenario name: say where scenarios are graded.
func loadTarget(target string) (*spec.Checks, error) {
	_, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) && !strings.ContainsRune(target, filepath.Separator) && filepath.Ext(target) == "" {
		return nil, errs.Invalidf("grade a scenario with `lab scenario check` (its current step) or `lab scenario test "+target+"`; lab grade takes the path of a checks file (kind: Checks)",
			"%q is not a file, and lab grade does not take scenario names", target)
	}
	return spec.LoadChecksFile(target)
}

// connectOptions finds the cluster the checks need: --kubeconfig/--context when given,
// else the lab's. A cluster that cannot be had is left for the checks to report.
func connectOptions(ctx context.Context, f *cmdutil.Factory, opts *Options, checks []spec.Check) (grade.ConnectOptions, error) {
	conn := grade.ConnectOptions{PrometheusURL: opts.PrometheusURL, AlertmanagerURL: opts.AlertmanagerURL}
	need := grade.Needs(checks)
	// Each of Prometheus and Alertmanager is reached through the lab unless given.
	viaLab := need.Kube || (need.Prometheus && opts.PrometheusURL == "") || (need.Alertmanager && opts.AlertmanagerURL == "")
	if !viaLab {
		return conn, nil
	}
	if f.ClusterFromFlags() {
		var err error
		conn.Kubeconfig, err = f.FlagsKubeconfig()
		return conn, err
	}
	r, err := f.ResolveLab(ctx, opts.Name)
	if errs.KindOf(err) == errs.Invalid {
		return conn, err // no such lab: the command is wrong (exit 2), no check can say more
	}
	if err != nil {
		conn.KubeconfigErr = withHint(err)
		return conn, nil
	}
	conn.Simulated = r.Status.Simulated
	conn.Kubeconfig, conn.KubeconfigErr = r.AdminKubeconfig, r.KubeconfigErr
	return conn, nil
}

// withHint puts an error's hint into its message: checks report only the message.
func withHint(err error) error {
	if hint := errs.HintOf(err); hint != "" {
		return errors.New(err.Error() + " (" + hint + ")")
	}
	return err
}
