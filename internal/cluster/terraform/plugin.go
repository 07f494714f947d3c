package terraform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind/tfplugin"
)

// kindModule is the bundled module whose provider is lab itself.
const kindModule = "kind"

// pluginDir is where terraform looks for the kind module's provider without any
// configuration: its implied local mirror in the home directory, unpacked layout.
func (p *Provider) pluginDir() string {
	return filepath.Join(p.home, ".terraform.d", "plugins", "registry.terraform.io", tfplugin.Source,
		tfplugin.Version, runtime.GOOS+"_"+runtime.GOARCH)
}

// installPlugin links the running lab binary into terraform's plugin directory as the
// kind module's provider, and drops the root's lock file, whose checksum is of the lab
// binary that was there before (an upgraded lab would not match it).
func (p *Provider) installPlugin(req cluster.Request) error {
	self, err := p.self()
	if err != nil {
		return fmt.Errorf("finding lab's own binary, the kind module's provider: %w", err)
	}
	dir := p.pluginDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	link := filepath.Join(dir, tfplugin.Executable)
	if target, err := os.Readlink(link); err != nil || target != self {
		if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Symlink(self, link); err != nil {
			return fmt.Errorf("linking lab as terraform's kind provider: %w", err)
		}
	}
	err = os.Remove(filepath.Join(rootDir(req), ".terraform.lock.hcl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
