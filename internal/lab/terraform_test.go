package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/terraform"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/state"
	tfmodules "github.com/cloudnativelab/lab/terraform"
)

// terraformLab is a lab of provider terraform on the terraform provider's test module,
// with vars added to the kubeconfig it hands out.
func terraformLab(t *testing.T, m *Manager, name string, vars string) *spec.Lab {
	t.Helper()
	m.Providers["terraform"] = terraform.New(tfmodules.Modules)
	module, err := filepath.Abs("../cluster/terraform/testdata/cluster")
	if err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata: {name: %s}
spec:
  cluster:
    provider: terraform
    terraform:
      module: %s
      vars: {kubeconfig_file: %s%s}
`, name, module, shared.KubeconfigPath, vars)
	l, err := spec.LoadLab(name+".yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestTerraformLabUpAndDown runs a lab of provider terraform through the engine with
// the real terraform binary. The module (the terraform provider's test module, built-in
// resources only) hands out the kubeconfig of the package's running control plane, so
// the lab's "cluster" answers without a cloud account; lab down destroys the module's
// resources and forgets the lab, and that control plane keeps running.
func TestTerraformLabUpAndDown(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	l := terraformLab(t, m, "cloud", ", apply_seconds: 0")
	ctx := context.Background()
	res, err := m.Up(ctx, UpOptions{Lab: l})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if res.Record.Phase != Ready || res.Record.Context != "lab-cloud" || res.Record.Provider != "terraform" {
		t.Fatalf("up result = %+v", res.Record)
	}
	st, err := m.Resolve(ctx, "cloud")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != cluster.Running || st.Adopted || st.Nodes.Ready != 2 || kube.ServerOf(st.AdminKubeconfig) != kube.ServerOf(shared.Kubeconfig) {
		t.Fatalf("resolved terraform lab: %+v, nodes %+v", st.Status, st.Nodes)
	}
	if !kube.HasContext(m.UserKubeconfig, "lab-cloud") {
		t.Fatal("context lab-cloud missing from the user's kubeconfig")
	}
	// The same file again is already up (its vars read back from the record equal the
	// file's), and terraform is not run.
	if again, err := m.Up(ctx, UpOptions{Lab: terraformLab(t, m, "cloud", ", apply_seconds: 0")}); err != nil || !again.AlreadyUp {
		t.Fatalf("up again with the same file: %+v, %v; want already up", again, err)
	}
	// Changed vars are applied to the cluster terraform made, not refused or ignored.
	rec := &event.Recorder{}
	m.Events = event.NewEmitter(rec)
	changed := terraformLab(t, m, "cloud", ", apply_seconds: 0, block_destroy: /nonexistent/other")
	if res, err := m.Up(ctx, UpOptions{Lab: changed}); err != nil || res.AlreadyUp {
		t.Fatalf("up with changed vars: %+v, %v", res, err)
	}
	if !rec.Said("terraform plan: 0 to add, 1 to change, 0 to destroy") {
		t.Errorf("the changed vars were not applied: %+v", rec.Events())
	}
	down, err := m.Down(ctx, "cloud")
	if err != nil || !down.Existed {
		t.Fatalf("down = %+v, %v", down, err)
	}
	if state.Exists(m.store().dir("cloud")) {
		t.Fatal("the lab's state dir, with its Terraform state, is still there")
	}
	if _, err := kube.Ping(ctx, shared.Kubeconfig); err != nil {
		t.Fatalf("the control plane the module pointed at was touched: %v", err)
	}
}

// TestTerraformDestroyRefusedKeepsTheState: when terraform cannot destroy (the cloud
// refuses), lab down fails and keeps the lab; lab down --force forgets the lab but
// moves the state, which still tracks the resources, where lab never deletes it, and
// names it.
func TestTerraformDestroyRefusedKeepsTheState(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	block := filepath.Join(t.TempDir(), "block")
	l := terraformLab(t, m, "stuck", ", block_destroy: "+block)
	ctx := context.Background()
	if _, err := m.Up(ctx, UpOptions{Lab: l}); err != nil {
		t.Fatalf("up: %v", err)
	}
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := m.Down(ctx, "stuck")
	if err == nil || !strings.Contains(err.Error(), "test ! -e") || !strings.Contains(errs.HintOf(err), "--force") {
		t.Fatalf("down with a destroy that fails: %v (hint %q), want terraform's reason and a hint that offers --force", err, errs.HintOf(err))
	}
	if !state.Exists(m.store().dir("stuck")) {
		t.Fatal("a failed down removed the lab")
	}
	res, err := m.DownWith(ctx, DownOptions{Name: "stuck", Force: true})
	if err != nil {
		t.Fatalf("down --force: %v", err)
	}
	kept, err := filepath.Glob(filepath.Join(m.StateDir, "kept", "stuck-*", "terraform.tfstate"))
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept states %v (%v), want one", kept, err)
	}
	if !strings.Contains(res.LeftBehind, kept[0]) || !strings.Contains(res.LeftBehind, "destroy") {
		t.Errorf("left behind %q does not name %s and how to destroy it", res.LeftBehind, kept[0])
	}
	data, err := os.ReadFile(kept[0])
	if err != nil || !strings.Contains(string(data), "terraform_data") {
		t.Errorf("the kept state does not track the resource: %v", err)
	}
}
