package sim

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/state"
)

// BinDirEnv names the directory holding the control-plane binaries.
const BinDirEnv = "LAB_SIM_BIN_DIR"

// controlPlane are the binaries kwokctl's binary runtime runs, by kwokctl flag.
var controlPlane = []struct{ file, flag string }{
	{"etcd", "--etcd-binary"},
	{"kube-apiserver", "--kube-apiserver-binary"},
	{"kube-controller-manager", "--kube-controller-manager-binary"},
	{"kube-scheduler", "--kube-scheduler-binary"},
	{"kwok", "--kwok-controller-binary"},
}

// Binaries locates kwokctl and the control plane.
type Binaries struct {
	Kwokctl string
	// Dir holds the control plane; empty means kwokctl downloads what it needs itself
	// (its default behaviour, which needs the internet).
	Dir string
}

// FindBinaries looks in $LAB_SIM_BIN_DIR, then in lab's cache (<cache>/sim/bin), then
// falls back to a kwokctl on PATH that fetches the control plane the way it does by
// default.
func FindBinaries() (Binaries, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return binariesIn(dir, BinDirEnv+"="+dir)
	}
	cached := filepath.Join(state.CacheHome(), "sim", "bin")
	if state.Exists(filepath.Join(cached, "kwokctl")) {
		return binariesIn(cached, cached)
	}
	kwokctl, err := exec.LookPath("kwokctl")
	if err != nil {
		return Binaries{}, errs.New(errs.Unavailable,
			"the sim provider needs kwokctl and a Kubernetes control plane, and none was found",
			"run `make testenv` (builds them into .testenv/bin) and set "+BinDirEnv+"=$PWD/.testenv/bin, or put kwokctl on PATH")
	}
	return Binaries{Kwokctl: kwokctl}, nil
}

func binariesIn(dir, where string) (Binaries, error) {
	b := Binaries{Kwokctl: filepath.Join(dir, "kwokctl"), Dir: dir}
	var missing []string
	for _, name := range append([]string{"kwokctl"}, fileNames()...) {
		if !isExecutable(filepath.Join(dir, name)) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return Binaries{}, errs.New(errs.Unavailable,
			fmt.Sprintf("%s lacks %s", where, strings.Join(missing, ", ")),
			"run `make testenv` to build the sim binaries")
	}
	return b, nil
}

func fileNames() []string {
	names := make([]string, len(controlPlane))
	for i, c := range controlPlane {
		names[i] = c.file
	}
	return names
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// binaryFlags are kwokctl's flags pointing at local binaries.
func (b Binaries) binaryFlags() []string {
	if b.Dir == "" {
		return nil
	}
	var flags []string
	for _, c := range controlPlane {
		flags = append(flags, c.flag, filepath.Join(b.Dir, c.file))
	}
	return flags
}

var kubeVersionRE = regexp.MustCompile(`v1\.(\d+)\.\d+`)

// KubeVersion is the kube-apiserver's version (v1.36.3), or "" when kwokctl picks it.
func (b Binaries) KubeVersion(ctx context.Context) (string, error) {
	if b.Dir == "" {
		return "", nil
	}
	out, err := exec.CommandContext(ctx, filepath.Join(b.Dir, "kube-apiserver"), "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("kube-apiserver --version: %v: %s", err, out)
	}
	v := kubeVersionRE.FindString(string(out))
	if v == "" {
		return "", fmt.Errorf("kube-apiserver --version printed %q, which names no version", strings.TrimSpace(string(out)))
	}
	return v, nil
}
