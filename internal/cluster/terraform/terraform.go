// Package terraform makes a lab's cluster with a Terraform module: one of lab's bundled
// modules (EKS, GKE, AKS, kind) or a directory of the user's. It is the only package
// that imports terraform-exec.
//
// Each lab gets a Terraform root of its own in its work directory: a generated
// main.tf.json that calls the module with the lab's name and vars and re-exports the
// module's kubeconfig output, and the state next to it (0600). Every run starts with
// init and plans before it applies, so a run cut short (Ctrl-C sends terraform an
// interrupt and waits for it to save its state) is finished by the next `lab up` and
// undone by `lab down`.
package terraform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Provider runs Terraform modules.
type Provider struct {
	modules fs.FS
	// lookPath finds the terraform binary (exec.LookPath; tests may point elsewhere).
	lookPath func(string) (string, error)
	// getenv and home are where credentials are looked for; terraform's plugin
	// directory is in home too.
	getenv func(string) string
	home   string
	// self is the lab binary, which serves the kind module's provider.
	self func() (string, error)
}

// New returns the terraform provider; modules holds the bundled modules, one directory
// each (the terraform package's Modules).
func New(modules fs.FS) *Provider {
	home, _ := os.UserHomeDir()
	return &Provider{modules: modules, lookPath: exec.LookPath, getenv: os.Getenv, home: home, self: os.Executable}
}

var _ cluster.Provider = (*Provider)(nil)

func (p *Provider) Name() string { return spec.ProviderTerraform }

// Info: lab owns the cluster the module makes; the module's vars, not
// spec.cluster.nodes, say how many nodes it has; no host ports are mapped.
func (p *Provider) Info() cluster.Info { return cluster.Info{OwnNodeCount: true} }

// Create initialises the lab's root, plans, and applies the plan. Applying again a
// module whose resources exist changes only what differs, so Create also resumes an
// interrupted apply and applies changed vars.
func (p *Provider) Create(ctx context.Context, req cluster.Request, ev *event.Emitter) error {
	tf, err := p.prepare(ctx, req)
	if err != nil {
		return err
	}
	planFile := filepath.Join(rootDir(req), "lab.tfplan")
	defer os.Remove(planFile)
	changes, err := tf.Plan(ctx, tfexec.Out(planFile))
	if err != nil {
		return tfError(ctx, "terraform plan", err)
	}
	if !changes {
		ev.Info("terraform: the cluster is as the module describes it, nothing to apply")
		return nil
	}
	plan, err := tf.ShowPlanFile(ctx, planFile)
	if err != nil {
		return tfError(ctx, "terraform show", err)
	}
	summary := summarize(plan).String()
	ev.Info("terraform plan: " + summary)
	cost := estimatedCost(req.Cluster.Terraform.Module)
	if cost != "" {
		ev.Info(cost)
	}
	if err := confirmApply(req, summary, cost); err != nil {
		return err
	}
	prog := newProgress(ev)
	err = prog.err(tf.ApplyJSON(ctx, prog, tfexec.DirOrPlan(planFile)))
	if protectErr := protectState(req); err == nil {
		err = protectErr
	}
	if err != nil {
		return tfError(ctx, "terraform apply", err)
	}
	return nil
}

// confirmApply asks before an apply that makes something (a resumed or changed cluster
// is asked about too: the plan says what it will do).
func confirmApply(req cluster.Request, summary, cost string) error {
	if req.Confirm == nil {
		return nil
	}
	q := fmt.Sprintf("Apply the Terraform plan of lab %q (%s)?", req.Name, summary)
	if cost != "" {
		q += " The cluster costs money until `lab down`: " + cost + "."
	}
	ok, err := req.Confirm(q)
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "cancelled: terraform applied nothing", "run lab up again and answer yes, or pass --yes")
	}
	return nil
}

// Delete destroys what the state holds, then checks that nothing is left in it.
func (p *Provider) Delete(ctx context.Context, req cluster.Request) error {
	st, err := readState(req)
	if err != nil {
		return err
	}
	if st.empty() {
		return os.RemoveAll(rootDir(req))
	}
	tf, err := p.prepare(ctx, req)
	if err != nil {
		return err
	}
	prog := newProgress(event.NewEmitter(event.Discard))
	if err := prog.err(tf.DestroyJSON(ctx, prog)); err != nil {
		return tfError(ctx, "terraform destroy", err)
	}
	if st, err = readState(req); err != nil {
		return err
	}
	if left := st.addresses(); len(left) > 0 {
		return errs.New(errs.Internal,
			fmt.Sprintf("terraform destroy left %d resources in the state: %v", len(left), left),
			"run `lab down` again; if they stay, `terraform -chdir="+rootDir(req)+" state list` shows them")
	}
	return os.RemoveAll(rootDir(req))
}

// Kubeconfig is the module's kubeconfig output, read from the state.
func (p *Provider) Kubeconfig(_ context.Context, req cluster.Request) ([]byte, error) {
	st, err := readState(req)
	if err != nil {
		return nil, err
	}
	kc, ok := st.output("kubeconfig")
	if !ok {
		return nil, errs.New(errs.Unavailable, "the Terraform state has no kubeconfig output",
			"run `lab up` to finish the cluster; a module must output kubeconfig (see docs/providers.md)")
	}
	return []byte(kc), nil
}

// Keep moves the lab's Terraform root, with the state that still tracks the cloud
// resources, out of the lab's directory when lab forgets a lab it could not destroy.
func (p *Provider) Keep(req cluster.Request, dir string) (string, error) {
	if _, err := os.Stat(rootDir(req)); errors.Is(err, fs.ErrNotExist) {
		return "nothing: the lab has no Terraform state", nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", err
	}
	if err := os.Rename(rootDir(req), dir); err != nil {
		return "", err
	}
	return leftIn(dir), nil
}

// LeftBehind names the state that tracks the cloud resources, where it is now.
func (p *Provider) LeftBehind(req cluster.Request) string { return leftIn(rootDir(req)) }

func leftIn(root string) string {
	return "the resources in the Terraform state " + filepath.Join(root, stateFile) +
		" (`terraform -chdir=" + root + " destroy` removes them; keep that directory until it has)"
}

// rootDir is the lab's Terraform root: its generated configuration and its state.
func rootDir(req cluster.Request) string { return filepath.Join(req.WorkDir, "terraform") }

// prepare writes the lab's root and runs terraform init in it.
func (p *Provider) prepare(ctx context.Context, req cluster.Request) (*tfexec.Terraform, error) {
	bin, err := p.binary()
	if err != nil {
		return nil, err
	}
	if err := p.writeRoot(req); err != nil {
		return nil, err
	}
	if req.Cluster.Terraform.Module == kindModule {
		if err := p.installPlugin(req); err != nil {
			return nil, err
		}
	}
	tf, err := tfexec.NewTerraform(rootDir(req), bin)
	if err != nil {
		return nil, err
	}
	if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		return nil, tfError(ctx, "terraform init", err)
	}
	return tf, nil
}

func (p *Provider) binary() (string, error) {
	bin, err := p.lookPath("terraform")
	if err != nil {
		return "", errs.New(errs.Unavailable, "the terraform binary is not on PATH",
			"install Terraform 1.5 or newer (https://developer.hashicorp.com/terraform/install)")
	}
	return bin, nil
}

// tfError keeps an interruption an interruption; anything else is terraform's own
// message, which names the file, line and argument of a bad module or var.
func tfError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errs.Wrap(errs.Internal, err, what+" failed", "")
}
