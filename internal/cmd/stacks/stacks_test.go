package stacks

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/existing"
	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/testenv"
	"github.com/cloudnativelab/lab/internal/ui"
)

var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

func webStack(name string, values map[string]any, timeout time.Duration) stack.Stack {
	return stack.Stack{Name: name, Namespace: name, Timeout: timeout,
		Charts: []stack.Chart{{Name: "web", Values: stack.ProfileValues(map[string]map[string]any{spec.ProfileLite: values})}}}
}

// cli runs `lab stacks` subcommands in-process against a lab adopting the shared
// cluster, with a catalog of the stack package's test charts.
type cli struct {
	t        *testing.T
	stateDir string
	yes      bool
}

func (c *cli) manager(sink event.Sink) *lab.Manager {
	greedy := map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "64Gi"}, "limits": map[string]any{"memory": "64Gi"}}}
	return &lab.Manager{
		StateDir:       c.stateDir,
		Providers:      map[string]cluster.Provider{"existing": existing.New()},
		UserKubeconfig: shared.KubeconfigPath,
		LockWait:       time.Second,
		Catalog: &stack.Catalog{
			Bundled: stack.ChartsFromDir(filepath.Join("..", "..", "stack", "testdata", "charts")),
			Stacks:  []stack.Stack{webStack("cli-web", nil, time.Minute), webStack("cli-greedy", greedy, 3*time.Second)},
		},
		Events: event.NewEmitter(sink),
	}
}

func (c *cli) run(output string, args ...string) (stdout, stderr string, err error) {
	ios, _, out, errOut := ui.Test()
	f := &cmdutil.Factory{IO: ios, Globals: &cmdutil.Globals{Output: output, Yes: c.yes}, Manager: c.manager}
	cmd := NewCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestStacksCommandsOnALab(t *testing.T) {
	c := &cli{t: t, stateDir: t.TempDir()}
	ctx := context.Background()
	m := c.manager(event.Discard)
	def, err := spec.LoadLab("cli.yaml", []byte("apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Lab\nmetadata: {name: cli-stacks}\nspec: {cluster: {provider: existing}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx, lab.UpOptions{Lab: def, Context: "testenv"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := m.Down(context.Background(), "cli-stacks"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	_, stderr, err := c.run("table", "add", "cli-web", "--name", "cli-stacks")
	if err != nil || !strings.Contains(stderr, "✓ Installing cli-web (web 0.1.0)") || !strings.Contains(stderr, `stacks cli-web ready on lab "cli-stacks"`) {
		t.Fatalf("stacks add: %v\n%s", err, stderr)
	}

	stdout, _, err := c.run("json", "list", "--name", "cli-stacks")
	var list []stack.Status
	if err != nil || json.Unmarshal([]byte(stdout), &list) != nil {
		t.Fatalf("stacks list -o json: %v\n%s", err, stdout)
	}
	got := map[string]bool{}
	for _, s := range list {
		got[s.Name] = s.Installed && s.Ready && s.Release == "deployed"
	}
	if !got["cli-web"] || got["cli-greedy"] || len(got) != 2 {
		t.Fatalf("stacks list = %+v, want cli-web installed and ready, cli-greedy not", list)
	}

	_, _, err = c.run("table", "add", "cli-greedy", "--name", "cli-stacks")
	if code := errs.KindOf(err).ExitCode(); code != errs.ExitError {
		t.Fatalf("stacks add of an unschedulable stack: exit %d (%v), want %d", code, err, errs.ExitError)
	}
	pods, _ := shared.Client.CoreV1().Pods("cli-greedy").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 1 || !strings.Contains(err.Error(), pods.Items[0].Name) || !strings.Contains(err.Error(), "Insufficient memory") {
		t.Fatalf("the diagnosis does not name the pending pod and its reason:\n%v", err)
	}

	if _, _, err := c.run("table", "remove", "cli-web", "cli-greedy", "--name", "cli-stacks"); errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.HintOf(err), "--yes") {
		t.Fatalf("remove without a terminal nor --yes: %v, want invalid input suggesting --yes", err)
	}
	c.yes = true
	if _, stderr, err := c.run("table", "remove", "cli-web", "cli-greedy", "--name", "cli-stacks"); err != nil {
		t.Fatalf("stacks remove: %v\n%s", err, stderr)
	}
	for _, ns := range []string{"cli-web", "cli-greedy"} {
		if _, err := shared.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s is still there after remove: %v", ns, err)
		}
	}
}

func TestStacksArgumentsAreValidated(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, stateDir: t.TempDir()}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "add needs a name", args: []string{"add"}, want: "needs at least one stack name"},
		{name: "unknown stack", args: []string{"add", "logging"}, want: `unknown stack "logging"`},
		{name: "no such lab", args: []string{"add", "cli-web", "--name", "ghost"}, want: `no lab named "ghost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.run("table", tt.args...)
			if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want invalid input saying %q", err, tt.want)
			}
		})
	}
}
