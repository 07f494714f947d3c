package terraform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

// minVersion is the oldest terraform lab runs: the bundled modules need 1.5.
var minVersion = version.Must(version.NewVersion("1.5.0"))

// Preflight checks, before terraform changes anything, the binary and its version, the
// module against the lab's vars, and that credentials for a bundled cloud module's
// cloud are there (it names where it looked, never what it found).
func (p *Provider) Preflight(ctx context.Context, req cluster.Request, _ *event.Emitter) error {
	tf := req.Cluster.Terraform
	if tf == nil {
		return errs.Invalidf("set spec.cluster.terraform.module", "provider terraform needs a module")
	}
	if err := p.checkBinary(ctx); err != nil {
		return err
	}
	fsys, err := p.moduleFS(tf.Module)
	if err != nil {
		return err
	}
	mi, err := readInterface(fsys, tf.Module)
	if err != nil {
		return err
	}
	if err := mi.check(tf.Module, tf.Vars); err != nil {
		return err
	}
	return p.checkCredentials(tf.Module)
}

func (p *Provider) checkBinary(ctx context.Context) error {
	bin, err := p.binary()
	if err != nil {
		return err
	}
	tf, err := tfexec.NewTerraform(os.TempDir(), bin)
	if err != nil {
		return err
	}
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot run "+bin, "")
	}
	if v.LessThan(minVersion) {
		return errs.New(errs.Unavailable, fmt.Sprintf("terraform %s at %s is older than %s", v, bin, minVersion),
			"install Terraform 1.5 or newer")
	}
	return nil
}

// credentialSource is one place a cloud's Terraform provider finds credentials: any
// of the environment variables set, or the file present (relative to home).
type credentialSource struct {
	env  []string
	file string
}

// credentials are, per bundled cloud module, the usual places its provider looks.
var credentials = map[string][]credentialSource{
	"eks": {
		{env: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}},
		{env: []string{"AWS_PROFILE"}},
		{env: []string{"AWS_WEB_IDENTITY_TOKEN_FILE"}},
		{file: ".aws/credentials"},
		{file: ".aws/config"},
	},
	"gke": {
		{env: []string{"GOOGLE_APPLICATION_CREDENTIALS"}},
		{env: []string{"GOOGLE_CREDENTIALS"}},
		{env: []string{"GOOGLE_OAUTH_ACCESS_TOKEN"}},
		{file: ".config/gcloud/application_default_credentials.json"},
	},
	"aks": {
		{env: []string{"ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"}},
		{env: []string{"ARM_USE_MSI"}},
		{env: []string{"ARM_USE_OIDC"}},
		{file: ".azure/azureProfile.json"},
	},
}

// checkCredentials passes when one source of the module's cloud is there. A module of
// the user's, or kind, needs none that lab knows of.
func (p *Provider) checkCredentials(module string) error {
	sources, ok := credentials[module]
	if !ok {
		return nil
	}
	var looked []string
	for _, s := range sources {
		if s.file != "" {
			path := filepath.Join(p.home, s.file)
			if _, err := os.Stat(path); err == nil {
				return nil
			}
			looked = append(looked, path)
			continue
		}
		if p.allSet(s.env) {
			return nil
		}
		looked = append(looked, strings.Join(s.env, " + "))
	}
	return errs.New(errs.Unavailable,
		fmt.Sprintf("no credentials for module %s: looked for %s", module, strings.Join(looked, ", ")),
		"log in with the cloud's CLI (aws configure, gcloud auth application-default login, az login) or set those variables")
}

func (p *Provider) allSet(names []string) bool {
	for _, n := range names {
		if p.getenv(n) == "" {
			return false
		}
	}
	return true
}
