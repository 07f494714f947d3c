package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
	tfmodules "github.com/cloudnativelab/lab/terraform"
)

// TestPreflightProblems: what preflight refuses, with the kind of error (exit code)
// and the words that tell the user what to fix.
func TestPreflightProblems(t *testing.T) {
	t.Parallel()
	fake, _ := filepath.Abs("testdata/cluster")
	noOutput, _ := filepath.Abs("testdata/no-output")
	home := t.TempDir()
	cases := []struct {
		name   string
		module string
		vars   map[string]any
		env    map[string]string
		noBin  bool
		kind   errs.Kind
		want   []string
	}{
		{name: "unknown and required vars", module: fake, vars: map[string]any{"region": "x"},
			kind: errs.Invalid, want: []string{"spec.cluster.terraform.vars.region: module " + fake + " has no such variable (it has apply_seconds, block_destroy, kubeconfig_file, name)",
				"spec.cluster.terraform.vars.kubeconfig_file: is required"}},
		{name: "name is lab's", module: fake, vars: map[string]any{"kubeconfig_file": "x", "name": "y"},
			kind: errs.Invalid, want: []string{"spec.cluster.terraform.vars.name: is set by lab"}},
		{name: "no kubeconfig output", module: noOutput, vars: map[string]any{"project": "p"},
			kind: errs.Invalid, want: []string{`has no output "kubeconfig"`}},
		{name: "not a directory", module: "./nowhere", kind: errs.Invalid, want: []string{"./nowhere is not a directory"}},
		{name: "no aws credentials", module: "eks", kind: errs.Unavailable,
			want: []string{"no credentials for module eks", "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY", filepath.Join(home, ".aws/credentials")}},
		{name: "gke needs a project", module: "gke", env: map[string]string{"GOOGLE_CREDENTIALS": "{}"},
			kind: errs.Invalid, want: []string{"spec.cluster.terraform.vars.project: is required by module gke"}},
		{name: "no terraform", module: "aks", noBin: true, kind: errs.Unavailable, want: []string{"terraform binary is not on PATH"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := New(tfmodules.Modules)
			p.home = home
			p.getenv = func(k string) string { return tc.env[k] }
			if tc.noBin {
				p.lookPath = func(string) (string, error) { return "", errors.New("not found") }
			}
			req := cluster.Request{Name: "x", WorkDir: t.TempDir(), Cluster: spec.ClusterSpec{
				Provider: spec.ProviderTerraform, Terraform: &spec.TerraformSpec{Module: tc.module, Vars: tc.vars}}}
			err := p.Preflight(context.Background(), req, nil)
			if err == nil {
				t.Fatal("Preflight passed")
			}
			if got := errs.KindOf(err); got != tc.kind {
				t.Errorf("kind %v, want %v: %v", got, tc.kind, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestPreflightFindsCredentials: any one source of a cloud's credentials will do.
func TestPreflightFindsCredentials(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".azure"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".azure", "azureProfile.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]map[string]string{
		"eks": {"AWS_PROFILE": "training"},
		"gke": {"GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json"},
		"aks": nil, // az login's profile in home
	}
	for module, env := range cases {
		p := New(tfmodules.Modules)
		p.home, p.getenv = home, func(k string) string { return env[k] }
		if err := p.checkCredentials(module); err != nil {
			t.Errorf("%s: %v", module, err)
		}
	}
}

// TestBundledModulesTakeNameAndOutputKubeconfig: every bundled module keeps the
// contract lab relies on, and its defaults leave at most the cloud's own ids to give.
func TestBundledModulesTakeNameAndOutputKubeconfig(t *testing.T) {
	t.Parallel()
	required := map[string]map[string]any{"gke": {"project": "my-project"}}
	for _, name := range spec.TerraformModules {
		fsys, err := New(tfmodules.Modules).moduleFS(name)
		if err != nil {
			t.Fatal(err)
		}
		mi, err := readInterface(fsys, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := mi.check(name, required[name]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRootConfigTakesVarsLiterally: a var's "${" is not an interpolation.
func TestRootConfigTakesVarsLiterally(t *testing.T) {
	t.Parallel()
	data, err := rootConfig("x", "./module", map[string]any{"tag": "${oops}", "list": []any{"%{if}"}, "n": 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"tag": "$${oops}"`, `"%%{if}"`, `"n": 2`, `"name": "x"`, `"source": "./module"`, `"value": "${module.cluster.kubeconfig}"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("main.tf.json lacks %s:\n%s", want, data)
		}
	}
}

// TestPreflightWithoutModule: --provider terraform on a lab file without
// spec.cluster.terraform is bad input, named, before terraform runs.
func TestPreflightWithoutModule(t *testing.T) {
	t.Parallel()
	req := cluster.Request{Name: "x", WorkDir: t.TempDir(), Cluster: spec.ClusterSpec{Provider: spec.ProviderTerraform}}
	err := New(tfmodules.Modules).Preflight(context.Background(), req, nil)
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "needs a module") || !strings.Contains(errs.HintOf(err), "spec.cluster.terraform.module") {
		t.Fatalf("Preflight without a module: %v (hint %q), want exit 2 naming spec.cluster.terraform.module", err, errs.HintOf(err))
	}
}
