package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
	tfmodules "github.com/cloudnativelab/lab/terraform"
)

// shared is the package's real control plane: the test module hands out its
// kubeconfig, so Status can ask a real API server whether the "cluster" answers.
var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

// request is a lab whose cluster is the test module, run by the real terraform binary.
func request(t *testing.T, name string, vars map[string]any) cluster.Request {
	t.Helper()
	module, err := filepath.Abs("testdata/cluster")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]any{"kubeconfig_file": shared.KubeconfigPath}
	for k, v := range vars {
		all[k] = v
	}
	return cluster.Request{Name: name, WorkDir: t.TempDir(), Cluster: spec.ClusterSpec{
		Provider:  spec.ProviderTerraform,
		Terraform: &spec.TerraformSpec{Module: module, Vars: all},
	}}
}

func status(t *testing.T, p *Provider, req cluster.Request) cluster.Status {
	t.Helper()
	st, err := p.Status(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestLifecycle: preflight, create (plan summary and progress as events), the
// kubeconfig from the state, a state only its owner reads, a second create that has
// nothing to do, and a delete that leaves nothing.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := New(tfmodules.Modules)
	req := request(t, "lifecycle", nil)
	if err := p.Preflight(ctx, req, nil); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	if st := status(t, p, req); st.State != cluster.Missing {
		t.Fatalf("before create: %+v, want missing", st)
	}
	rec := &event.Recorder{}
	if err := p.Create(ctx, req, event.NewEmitter(rec)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, want := range []string{"terraform plan: 1 to add, 0 to change, 0 to destroy", "terraform: module.cluster.terraform_data.cluster: Creation complete"} {
		if !rec.Said(want) {
			t.Errorf("no event saying %q in %+v", want, rec.Events())
		}
	}
	if st := status(t, p, req); st.State != cluster.Running || !strings.Contains(st.Detail, "Kubernetes v") {
		t.Errorf("after create: %+v, want running", st)
	}
	kc, err := p.Kubeconfig(ctx, req)
	if err != nil || string(kc) != string(shared.Kubeconfig) {
		t.Errorf("Kubeconfig: %v, equal to the cluster's: %v", err, string(kc) == string(shared.Kubeconfig))
	}
	fi, err := os.Stat(filepath.Join(rootDir(req), stateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	again := &event.Recorder{}
	if err := p.Create(ctx, req, event.NewEmitter(again)); err != nil || !again.Said("nothing to apply") {
		t.Errorf("second Create: %v, events %+v", err, again.Events())
	}
	if err := p.Delete(ctx, req); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if st := status(t, p, req); st.State != cluster.Missing {
		t.Errorf("after delete: %+v, want missing", st)
	}
	if _, err := os.Stat(rootDir(req)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lab's terraform root is still there: %v", err)
	}
	if err := p.Delete(ctx, req); err != nil {
		t.Errorf("Delete of a deleted cluster: %v", err)
	}
}

// TestInterruptedApplyResumes: Ctrl-C in the middle of an apply (terraform gets an
// interrupt and saves its state) leaves a cluster that is not finished; the next Create
// finishes it.
func TestInterruptedApplyResumes(t *testing.T) {
	t.Parallel()
	p := New(tfmodules.Modules)
	req := request(t, "interrupted", map[string]any{"apply_seconds": 60})
	interruptCreate(t, p, req)
	st := status(t, p, req)
	if st.State != cluster.Stopped || !strings.Contains(st.Detail, "did not finish") {
		t.Fatalf("after the interruption: %+v, want stopped with an unfinished apply", st)
	}
	req.Cluster.Terraform.Vars["apply_seconds"] = 0
	if err := p.Create(context.Background(), req, event.NewEmitter(event.Discard)); err != nil {
		t.Fatalf("resuming Create: %v", err)
	}
	if st := status(t, p, req); st.State != cluster.Running {
		t.Errorf("after resuming: %+v, want running", st)
	}
	if err := p.Delete(context.Background(), req); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

// TestDeleteAfterInterruption: lab down of a cluster whose apply was cut short destroys
// what the state holds.
func TestDeleteAfterInterruption(t *testing.T) {
	t.Parallel()
	p := New(tfmodules.Modules)
	req := request(t, "half", map[string]any{"apply_seconds": 60})
	interruptCreate(t, p, req)
	if st := status(t, p, req); st.State == cluster.Missing {
		t.Fatalf("the interrupted apply left nothing in the state; the test proves nothing")
	}
	if err := p.Delete(context.Background(), req); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if st := status(t, p, req); st.State != cluster.Missing {
		t.Errorf("after delete: %+v, want missing", st)
	}
}

// interruptCreate runs Create and cancels it (Ctrl-C) while the apply's provisioner
// runs: after the plan, two seconds into the apply.
func interruptCreate(t *testing.T, p *Provider, req cluster.Request) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rec := &event.Recorder{}
	done := make(chan error, 1)
	go func() { done <- p.Create(ctx, req, event.NewEmitter(rec)) }()
	waitFor(t, func() bool { return rec.Said("terraform plan:") }, "the plan")
	time.Sleep(2 * time.Second)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Create: %v, want context.Canceled", err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCreateAsksBeforeApplying: the user sees the plan's summary in the question; a no
// applies nothing (exit 2, nothing left in the state), a yes applies.
func TestCreateAsksBeforeApplying(t *testing.T) {
	t.Parallel()
	p := New(tfmodules.Modules)
	req := request(t, "asked", nil)
	var asked []string
	answer := false
	req.Confirm = func(q string) (bool, error) { asked = append(asked, q); return answer, nil }
	err := p.Create(context.Background(), req, event.NewEmitter(event.Discard))
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("Create answered no: %v, want a cancellation (exit 2)", err)
	}
	if len(asked) != 1 || !strings.Contains(asked[0], `lab "asked" (1 to add, 0 to change, 0 to destroy)`) {
		t.Fatalf("questions %q", asked)
	}
	if st := status(t, p, req); st.State != cluster.Missing {
		t.Fatalf("after a no: %+v, want missing", st)
	}
	answer = true
	if err := p.Create(context.Background(), req, event.NewEmitter(event.Discard)); err != nil {
		t.Fatalf("Create answered yes: %v", err)
	}
	if st := status(t, p, req); st.State != cluster.Running {
		t.Errorf("after a yes: %+v, want running", st)
	}
	if err := p.Delete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}
