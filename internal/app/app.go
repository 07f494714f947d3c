// Package app builds lab's dependencies, runs the command tree and maps errors to a
// message, a hint and an exit code, in exactly one place.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/existing"
	"github.com/cloudnativelab/lab/internal/cluster/kind"
	"github.com/cloudnativelab/lab/internal/cluster/kind/tfplugin"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/cluster/terraform"
	chaoscmd "github.com/cloudnativelab/lab/internal/cmd/chaos"
	classcmd "github.com/cloudnativelab/lab/internal/cmd/class"
	"github.com/cloudnativelab/lab/internal/cmd/creds"
	deliverycmd "github.com/cloudnativelab/lab/internal/cmd/delivery"
	"github.com/cloudnativelab/lab/internal/cmd/down"
	"github.com/cloudnativelab/lab/internal/cmd/footprint"
	gradecmd "github.com/cloudnativelab/lab/internal/cmd/grade"
	"github.com/cloudnativelab/lab/internal/cmd/kubeconfig"
	"github.com/cloudnativelab/lab/internal/cmd/list"
	"github.com/cloudnativelab/lab/internal/cmd/open"
	"github.com/cloudnativelab/lab/internal/cmd/pull"
	scenariocmd "github.com/cloudnativelab/lab/internal/cmd/scenario"
	"github.com/cloudnativelab/lab/internal/cmd/stacks"
	"github.com/cloudnativelab/lab/internal/cmd/status"
	"github.com/cloudnativelab/lab/internal/cmd/up"
	"github.com/cloudnativelab/lab/internal/cmd/version"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/state"
	"github.com/cloudnativelab/lab/internal/ui"
	tfmodules "github.com/cloudnativelab/lab/terraform"
)

// Set by the Makefile through -ldflags -X.
var (
	buildVersion = "dev"
	buildCommit  = "unknown"
	buildDate    = ""
)

// Main runs lab with the process's arguments and streams and returns the exit code.
func Main() int {
	if tfplugin.Started() {
		return servePlugin()
	}
	return Run(context.Background(), ui.System(), os.Args[1:])
}

// servePlugin runs lab as the Terraform provider of its kind module: terraform starts
// it from the link lab put in terraform's plugin directory.
func servePlugin() int {
	if err := tfplugin.Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "lab's Terraform provider for kind:", err)
		return 1
	}
	return 0
}

// Run runs lab with the given streams and arguments; tests call it in-process.
func Run(ctx context.Context, io *ui.IO, args []string) int {
	ctx, stop := interruptible(ctx)
	defer stop()
	f := NewFactory(io)
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return errs.ExitOK
	}
	if ctx.Err() != nil && errs.KindOf(err) == errs.Internal {
		err = &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: err}
	}
	err = classify(err)
	io.PrintError(err)
	return errs.KindOf(err).ExitCode()
}

// interruptible cancels ctx on the first Ctrl-C or SIGTERM; a second one kills lab at
// once (the default behaviour comes back after the first).
func interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// classify gives cobra's own usage errors (unknown command or flag) the invalid-input
// kind; every other error already carries its kind.
func classify(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument", "flag needs an argument", "if any flags in the group"} {
		if strings.HasPrefix(msg, prefix) {
			return errs.Wrap(errs.Invalid, err, "", "see `lab --help`")
		}
	}
	return err
}

// NewFactory wires the real dependencies.
func NewFactory(io *ui.IO) *cmdutil.Factory {
	g := &cmdutil.Globals{}
	f := &cmdutil.Factory{
		IO:      io,
		Globals: g,
		Build:   cmdutil.BuildInfo{Version: buildVersion, Commit: buildCommit, Date: buildDate},
	}
	f.ScenarioEngine = scenariocmd.EngineFor(f)
	f.Manager = func(sink event.Sink) *lab.Manager {
		return &lab.Manager{
			StateDir: state.StateHome(),
			Providers: map[string]cluster.Provider{
				"kind":      kind.New(),
				"sim":       sim.New(),
				"existing":  existing.New(),
				"terraform": terraform.New(tfmodules.Modules),
			},
			DockerReachable: kind.DockerReachable,
			UserKubeconfig:  g.Kubeconfig,
			LockWait:        cmdutil.LockWait(),
			Catalog:         stack.Default(),
			CacheDir:        state.CacheHome(),
			Events:          event.NewEmitter(sink),
			BeforeDown:      revertBeforeDown,
		}
	}
	return f
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "lab",
		Short: "A Kubernetes practice ground: create a lab, break it, grade it",
		Long: `lab gives Kubernetes trainees, instructors and SRE teams a complete practice ground
in one command: a cluster (kind, a Docker-free simulated one, or yours) with the stacks
a course needs, guided scenarios, chaos drills and automated grading.`,
		Example: `  lab up                 # a lab on kind, or simulated when Docker is not running
  lab status             # what runs, and its kubeconfig context
  lab down               # remove it`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f.Globals.NoColor {
				f.IO.Color = false
			}
			routeClientGoLogs(f.Globals.Verbose, f.IO.ErrOut)
			_, err := f.Format()
			return err
		},
	}
	root.SetFlagErrorFunc(cmdutil.FlagError)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	addGlobalFlags(root, f.Globals)
	root.AddCommand(
		up.NewCmd(f, nil),
		down.NewCmd(f),
		status.NewCmd(f),
		list.NewCmd(f),
		kubeconfig.NewCmd(f),
		version.NewCmd(f),
		stacks.NewCmd(f),
		footprint.NewCmd(f),
		pull.NewCmd(f, nil),
		open.NewCmd(f),
		creds.NewCmd(f),
		gradecmd.NewCmd(f),
		chaoscmd.NewCmd(f),
		scenariocmd.NewCmd(f),
		deliverycmd.NewCmd(f),
		classcmd.NewCmd(f),
	)
	// Added now rather than at Execute so the CLI reference documents it.
	root.InitDefaultCompletionCmd()
	return root
}

// routeClientGoLogs sends the log lines of client-go and the other Kubernetes
// libraries (klog: "couldn't get current server API group list", retries while an API
// server is down) to stderr with -v only: without it they are dropped, since lab's own
// messages say what failed and what to do.
func routeClientGoLogs(verbose int, errOut io.Writer) {
	out := io.Discard
	if verbose > 0 {
		out = errOut
	}
	klog.SetLogger(textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(out), textlogger.Verbosity(verbose))))
}

func addGlobalFlags(root *cobra.Command, g *cmdutil.Globals) {
	pf := root.PersistentFlags()
	pf.StringVar(&g.Kubeconfig, "kubeconfig", "", "kubeconfig file to merge lab contexts into and adopt contexts from (default: $KUBECONFIG or ~/.kube/config)")
	pf.StringVar(&g.Context, "context", "", "kubeconfig context to adopt (with --provider existing)")
	pf.StringVarP(&g.Output, "output", "o", "table", "output format: "+ui.FormatNames())
	pf.CountVarP(&g.Verbose, "verbose", "v", "more detail (repeat for more)")
	pf.BoolVar(&g.NoColor, "no-color", false, "no colour in the output (also when NO_COLOR is set)")
	pf.BoolVarP(&g.Yes, "yes", "y", false, "answer yes to confirmations")
	root.RegisterFlagCompletionFunc("output", cmdutil.FixedCompletion("table", "json", "yaml"))
	root.MarkPersistentFlagFilename("kubeconfig")
}
