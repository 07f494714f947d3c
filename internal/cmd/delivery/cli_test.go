package delivery

import (
	"context"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

// runDelivery runs `lab delivery args...` on an empty state dir: no lab exists.
func runDelivery(t *testing.T, args ...string) error {
	t.Helper()
	ios, _, _, _ := ui.Test()
	state := t.TempDir()
	f := &cmdutil.Factory{IO: ios, Globals: &cmdutil.Globals{Output: "table"},
		Manager: func(event.Sink) *lab.Manager { return &lab.Manager{Catalog: stack.Default(), StateDir: state} }}
	cmd := NewCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

// Wrong input is the user's to fix (exit 2), and it is caught before any cluster is
// looked for.
func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"promote"}, "delivery promote takes one rollout name, got 0"},
		{[]string{"abort", "a", "b"}, "delivery abort takes one rollout name, got 2"},
		{[]string{"retry"}, "delivery retry takes one rollout name, got 0"},
		{[]string{"status", "a", "b"}, "delivery status takes at most one rollout name, got 2"},
		{[]string{"status", "--name", "Bad_Name"}, "Bad_Name"},
		{[]string{"status", "--name", "nowhere"}, "nowhere"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			err := runDelivery(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("kind %v, want Invalid (exit 2)", errs.KindOf(err))
			}
		})
	}
}
