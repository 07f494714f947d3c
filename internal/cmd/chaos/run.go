package chaos

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/ui"
)

// RunOptions of `lab chaos run`.
type RunOptions struct {
	Name  string
	Fault string
	// Params holds every fault parameter flag; Given lists those set on the command line.
	Params          chaos.Params
	Limits          chaos.Limits
	Duration        time.Duration
	RecoveryTimeout time.Duration
	DryRun          bool
	MetricsAddr     string
	GrafanaURL      string
}

// paramFlags are the flags that are fault parameters, in help order.
var paramFlags = []string{"namespace", "selector", "target", "node", "count", "percent", "grace-period", "interval",
	"seed", "replicas", "mode", "image", "args", "container", "key", "cpu", "memory", "delay", "abort-status"}

// rawParams receives the flags whose spec type is a pointer.
type rawParams struct {
	gracePeriod time.Duration
	seed        int64
	replicas    int32
}

// NewRunCmd builds `lab chaos run`.
func NewRunCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &RunOptions{Limits: chaos.DefaultLimits}
	raw := &rawParams{}
	cmd := &cobra.Command{
		Use:   "run FAULT [flags]",
		Short: "Inject one fault, hold it for --duration, then revert it",
		Long: `Inject one fault into a lab, hold it for --duration, then revert it. Ctrl-C reverts
at once. --dry-run prints exactly which objects would change, and changes nothing.

Before the cluster is touched the injection is written to the lab's chaos journal,
and its targets carry lab.cloudnativelab.io/chaos-* annotations while it lasts. If
lab is killed meanwhile, "lab chaos status" lists the fault and "lab chaos revert
--all" undoes it.

Faults and the flags they read:
` + faultHelp() + `
Random choices (pod-kill's victims, the pod a hog lands next to) come from a seed
that is printed; --seed replays the same choice on the same pods.`,
		Example: `  # Kill 2 of the cart's pods, then watch the ReplicaSet replace them
  lab chaos run pod-kill -n shop -l app=cart --count 2

  # Kill a third of them every 20s for 2 minutes, replaying an earlier choice
  lab chaos run pod-kill -n shop -l app=cart --percent 33 --interval 20s --duration 2m --seed 42

  # Scale a Deployment to zero for 5 minutes, showing what would change first
  lab chaos run scale --target deployment/web --replicas 0 --duration 5m --dry-run

  # Roll out an image that cannot be pulled; corrupt a ConfigMap key
  lab chaos run bad-rollout -n shop --target deploy/cart
  lab chaos run config-break -n shop --target configmap/cart --key config.yaml

  # Drain a node, with lab's metrics served for Prometheus meanwhile
  lab chaos run node-drain --node lab-worker --metrics-addr 127.0.0.1:9464`,
		Args:              faultArg,
		ValidArgsFunction: completeFaults,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Fault = args[0]
			opts.Params.Given = givenParams(cmd)
			setPointerParams(cmd, raw, &opts.Params.FaultParams)
			return runRun(cmd.Context(), f, opts)
		},
	}
	addParamFlags(cmd, &opts.Params.FaultParams, raw)
	fl := cmd.Flags()
	fl.DurationVar(&opts.Duration, "duration", 30*time.Second, "how long the fault lasts before it is reverted (0: revert at once)")
	fl.DurationVar(&opts.RecoveryTimeout, "recovery-timeout", 2*time.Minute, "how long to wait for the touched workloads to be healthy again after the fault (0: do not wait)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print which objects would change, and change nothing")
	addLimitFlags(cmd, &opts.Limits)
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve lab's chaos metrics on this address while the fault runs (e.g. 127.0.0.1:9464)")
	fl.StringVar(&opts.GrafanaURL, "grafana-url", "", "annotate the fault in this Grafana (monitoring stack); user and password from $LAB_GRAFANA_USER and $LAB_GRAFANA_PASSWORD (default admin/admin)")
	f.AddNameFlag(cmd, &opts.Name)
	return cmd
}

func addParamFlags(cmd *cobra.Command, p *spec.FaultParams, raw *rawParams) {
	fl := cmd.Flags()
	fl.StringVarP(&p.Namespace, "namespace", "n", "", "namespace of the target (default \"default\")")
	fl.StringVarP(&p.Selector, "selector", "l", "", "label selector of the pods (pod-kill, hogs)")
	fl.StringVar(&p.Target, "target", "", "the object, as kind/name: deployment/web, configmap/app, secret/db, service/api")
	fl.StringVar(&p.Node, "node", "", "node name (node-drain, node-stop, node-pause)")
	fl.IntVar(&p.Count, "count", 0, "how many matching pods to pick (default 1)")
	fl.IntVar(&p.Percent, "percent", 0, "share of matching pods to pick, or of requests to hit (http faults), 1-100")
	fl.DurationVar(&raw.gracePeriod, "grace-period", 0, "termination grace period of deleted or evicted pods (default: each pod's own)")
	fl.DurationVar(&p.Interval, "interval", 0, "pod-kill: kill again every interval while the fault lasts")
	fl.Int64Var(&raw.seed, "seed", 0, "seed of the random choice, to replay one (default: a new one, printed)")
	fl.Int32Var(&raw.replicas, "replicas", 0, "scale: the replica count to set")
	fl.StringVar(&p.Mode, "mode", "", "bad-rollout: image (default), crash or args; config-break: corrupt (default) or remove")
	fl.StringVar(&p.Image, "image", "", "bad-rollout: the image to roll to; hogs: the hog's image")
	fl.StringArrayVar(&p.Args, "args", nil, "bad-rollout mode args: an argument to add to the container, repeatable (--args=--random-error=true)")
	fl.StringVar(&p.Container, "container", "", "bad-rollout: the container to break (default: the first)")
	fl.StringVar(&p.Key, "key", "", "config-break: the ConfigMap or Secret key")
	fl.StringVar(&p.CPU, "cpu", "", "cpu-hog: CPU the hog may burn (default 1)")
	fl.StringVar(&p.Memory, "memory", "", "memory-hog: memory the hog holds (default 256Mi)")
	fl.DurationVar(&p.Delay, "delay", 0, "http-delay: the delay added to requests")
	fl.IntVar(&p.AbortStatus, "abort-status", 0, "http-abort: the HTTP status answered (default 503)")
	cmd.RegisterFlagCompletionFunc("mode", cmdutil.FixedCompletion("image", "crash", "args", "corrupt", "remove"))
}

func addLimitFlags(cmd *cobra.Command, lim *chaos.Limits) {
	fl := cmd.Flags()
	fl.BoolVar(&lim.IncludeSystem, "include-system", false, "allow acting on kube-system, the lab's stack namespaces and nodes' system pods")
	fl.IntVar(&lim.MaxPods, "max-pods", chaos.DefaultLimits.MaxPods, "blast-radius cap: most pods one fault may delete, evict or scale away")
	fl.IntVar(&lim.MaxPercent, "max-percent", chaos.DefaultLimits.MaxPercent, "blast-radius cap: most percent of a namespace's pods (the cluster's, for node-drain) one fault may delete or evict")
	fl.BoolVar(&lim.BeyondCapacity, "beyond-capacity", false, "allow growing past what the lab's nodes hold: scale adding more pods than the schedulable nodes have free slots, a hog asking for more than its node's allocatable CPU or memory")
}

// givenParams are the parameter flags set on the command line, camelCase.
func givenParams(cmd *cobra.Command) []string {
	var given []string
	for _, flag := range paramFlags {
		if cmd.Flags().Changed(flag) {
			given = append(given, camel(flag))
		}
	}
	return given
}

func setPointerParams(cmd *cobra.Command, raw *rawParams, p *spec.FaultParams) {
	if cmd.Flags().Changed("grace-period") {
		p.GracePeriod = &raw.gracePeriod
	}
	if cmd.Flags().Changed("seed") {
		p.Seed = &raw.seed
	}
	if cmd.Flags().Changed("replicas") {
		p.Replicas = &raw.replicas
	}
}

// camel turns a flag name into its parameter name: grace-period -> gracePeriod.
func camel(flag string) string {
	var b strings.Builder
	up := false
	for _, r := range flag {
		if r == '-' {
			up = true
			continue
		}
		if up {
			r, up = unicode.ToUpper(r), false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func faultArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return errs.Invalidf("see `lab chaos list`", "%s needs exactly one fault, one of: %s", cmd.CommandPath(), strings.Join(chaos.FaultNames(), ", "))
	}
	if _, err := chaos.Lookup(args[0]); err != nil {
		return errs.Wrap(errs.Invalid, err, "", "see `lab chaos list`")
	}
	return nil
}

func completeFaults(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return chaos.FaultNames(), cobra.ShellCompDirectiveNoFileComp
}

// faultHelp lists each fault with its flags, from the registry.
func faultHelp() string {
	var b strings.Builder
	for _, f := range chaos.Faults() {
		flags := make([]string, len(f.Params()))
		for i, p := range f.Params() {
			flags[i] = chaos.FlagName(p)
		}
		fmt.Fprintf(&b, "  %-13s %s\n  %-13s flags: %s\n", f.Name(), f.Summary(), "", strings.Join(flags, " "))
	}
	return b.String()
}

func runRun(ctx context.Context, f *cmdutil.Factory, opts *RunOptions) error {
	format, err := f.Format()
	if err != nil {
		return err
	}
	l, err := resolveLab(ctx, f, opts.Name)
	if err != nil {
		return err
	}
	if opts.DryRun {
		return dryRun(ctx, f, format, l, opts)
	}
	progress, err := f.Progress()
	if err != nil {
		return err
	}
	defer progress.Close()
	engine := newEngine(f, progress)
	stop, err := serveMetrics(engine, opts.MetricsAddr)
	if err != nil {
		return err
	}
	defer stop()
	setUpGrafana(engine, l, opts.GrafanaURL)
	res, err := engine.Run(ctx, l, runOptions(opts))
	if err != nil {
		return err
	}
	progress.Emit(runResultEvent(res))
	return nil
}

func runOptions(opts *RunOptions) chaos.RunOptions {
	return chaos.RunOptions{Fault: opts.Fault, Params: opts.Params, Limits: opts.Limits, Duration: opts.Duration,
		DryRun: opts.DryRun, RecoveryTimeout: opts.RecoveryTimeout, Source: "run"}
}

// serveMetrics serves lab's own metrics while the command runs, when asked to.
func serveMetrics(engine *chaos.Engine, addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	exp := metrics.NewExporter()
	srv, err := exp.Serve(addr)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "", "pick a free address for --metrics-addr, such as 127.0.0.1:9464")
	}
	engine.Metrics = exp
	engine.Events.Info("serving lab's chaos metrics on http://" + srv.Addr + "/metrics")
	return func() { srv.Close() }, nil
}

// setUpGrafana annotates in Grafana when the lab's monitoring stack has one that
// answers; otherwise it says why not.
func setUpGrafana(engine *chaos.Engine, l *chaos.Lab, url string) {
	use, reason := chaos.GrafanaPlan(l, url)
	if !use {
		engine.Notes = append(engine.Notes, reason)
		return
	}
	g := &chaos.Grafana{URL: url, User: envOr("LAB_GRAFANA_USER", "admin"), Password: envOr("LAB_GRAFANA_PASSWORD", "admin")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Healthy(ctx); err != nil {
		engine.Notes = append(engine.Notes, "Grafana annotations skipped: "+err.Error())
		return
	}
	engine.Annotations = g
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func dryRun(ctx context.Context, f *cmdutil.Factory, format ui.Format, l *chaos.Lab, opts *RunOptions) error {
	plan, _, _, err := newEngine(f, event.Discard).Plan(ctx, l, runOptions(opts))
	if err != nil {
		return err
	}
	return f.IO.Printer(format).Print(plan, func() ui.View {
		f.IO.Notef("Dry run of %s on lab %q: %s. Nothing was changed.", plan.Fault, plan.Lab, plan.Summary)
		if plan.Seed != nil {
			f.IO.Notef("Seed %d (--seed %d replays this choice).", *plan.Seed, *plan.Seed)
		}
		if plan.Support.Level == chaos.Limited {
			f.IO.Notef("Limited here: %s", plan.Support.Reason)
		}
		for _, w := range plan.Warnings {
			f.IO.Notef("Warning: %s", w)
		}
		return changeTable(plan.Changes)
	})
}

func changeTable(changes []chaos.Change) *ui.Table {
	t := ui.NewTable("ACTION", "KIND", "NAMESPACE", "NAME", "DETAIL")
	for _, c := range changes {
		t.AddRow(c.Action, c.Kind, orDash(c.Namespace), c.Name, c.Detail)
	}
	return t
}

func runResultEvent(res *chaos.RunResult) event.Event {
	e := res.Entry
	fields := map[string]string{"id": e.ID, "fault": e.Fault, "lab": e.Lab}
	if e.Seed != nil {
		fields["seed"] = fmt.Sprint(*e.Seed)
	}
	msg := fmt.Sprintf("%s injected and reverted", e.ID)
	switch {
	case res.Recovery != nil:
		fields["recoverySeconds"] = fmt.Sprintf("%.3f", res.Recovery.Seconds())
		msg += fmt.Sprintf("; recovered in %s", res.Recovery.Round(time.Millisecond))
	case res.RecoveryError != "":
		fields["recoveryError"] = res.RecoveryError
		msg += "; " + res.RecoveryError
	}
	return event.Event{Type: event.Result, Message: msg, Fields: fields}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
