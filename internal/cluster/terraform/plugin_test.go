package terraform

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind/tfplugin"
	tfmodules "github.com/cloudnativelab/lab/terraform"
)

// TestInstallPluginLinksLab: the kind module's provider is the lab binary, linked into
// terraform's plugin directory of the home; a new lab binary is linked anew, and the
// root's lock file (a checksum of the old binary) goes.
func TestInstallPluginLinksLab(t *testing.T) {
	t.Parallel()
	p := New(tfmodules.Modules)
	p.home = t.TempDir()
	self := "/opt/lab/v1/lab"
	p.self = func() (string, error) { return self, nil }
	req := cluster.Request{Name: "x", WorkDir: t.TempDir()}
	lock := filepath.Join(rootDir(req), ".terraform.lock.hcl")
	link := filepath.Join(p.home, ".terraform.d/plugins/registry.terraform.io/cloudnativelab/kind", tfplugin.Version)
	for _, want := range []string{"/opt/lab/v1/lab", "/opt/lab/v2/lab"} {
		self = want
		if err := os.MkdirAll(rootDir(req), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lock, []byte("# old checksums"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.installPlugin(req); err != nil {
			t.Fatal(err)
		}
		matches, _ := filepath.Glob(filepath.Join(link, "*", tfplugin.Executable))
		if len(matches) != 1 {
			t.Fatalf("plugin links %v, want one", matches)
		}
		if got, err := os.Readlink(matches[0]); err != nil || got != want {
			t.Errorf("the plugin links to %q (%v), want %q", got, err, want)
		}
		if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the lock file is still there: %v", err)
		}
	}
}
