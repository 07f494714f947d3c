// Package kind is lab's real-cluster suite: one kind lab, brought up from the offline
// bundle that `make testenv` builds on this machine (hack/kind/build.sh: a node image
// and the stacks' images built from source, packed by `lab pull --bundle`), then driven
// through the lab binary as a trainee would. Everything here runs real containers.
//
// It runs in `make test` whenever Docker answers and the bundle exists. Elsewhere it
// skips and says why, except under CI=true, where `make testenv` installs Docker and
// builds the bundle: a missing one there is a failure, not a skip.
package kind

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// suite is the lab every test of the package shares.
var suite struct {
	lab        string // bin/lab built for this run
	env        []string
	name       string
	bundle     string
	kubeconfig string
	context    string
	volumes    []string // dangling Docker volumes before the lab, not ours to judge
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if reason := unavailable(); reason != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "kind suite: %s; on CI `make testenv` provides Docker and the bundle\n", reason)
			return 1
		}
		fmt.Fprintf(os.Stderr, "kind suite skipped: %s (run `make testenv` as root to build it)\n", reason)
		return 0
	}
	dir, err := os.MkdirTemp("", "lab-kindtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setUp(dir); err != nil {
		fmt.Fprintf(os.Stderr, "kind suite: %v\n", err)
		tearDown()
		return 1
	}
	code := m.Run()
	if err := tearDown(); err != nil {
		fmt.Fprintf(os.Stderr, "kind suite: %v\n", err)
		return 1
	}
	return code
}

// unavailable says why the suite cannot run here, or "" when it can.
func unavailable() string {
	if err := exec.Command("docker", "info").Run(); err != nil {
		return "Docker does not answer (`docker info` failed)"
	}
	suite.bundle = os.Getenv("LAB_KIND_BUNDLE")
	if suite.bundle == "" {
		suite.bundle = filepath.Join(cacheDir(), "lab", "kind", "bundle")
	}
	if _, err := os.Stat(filepath.Join(suite.bundle, "manifest.json")); err != nil {
		return "no test bundle at " + suite.bundle
	}
	return ""
}

func cacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache")
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// setUp builds lab and brings the suite's lab up from the bundle, with lab's state and
// kubeconfig private to this run.
func setUp(dir string) error {
	suite.lab = filepath.Join(dir, "lab")
	build := exec.Command("go", "build", "-o", suite.lab, "./cmd/lab")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building lab: %v\n%s", err, out)
	}
	suite.name = "kindtest"
	suite.kubeconfig = filepath.Join(dir, "kubeconfig")
	suite.context = "lab-" + suite.name
	suite.env = append(os.Environ(),
		"LAB_STATE_DIR="+filepath.Join(dir, "state"),
		"XDG_STATE_HOME="+filepath.Join(dir, "xdg-state"),
		"KUBECONFIG="+suite.kubeconfig,
		"NO_COLOR=1",
	)
	// A lab left by an earlier run that was killed holds the same cluster name.
	_ = exec.Command("docker", "rm", "-f", "-v", clusterName()+"-control-plane", clusterName()+"-worker").Run()
	suite.volumes = danglingVolumes()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	res := lab(ctx, "up", "-f", filepath.Join(repoRoot(), "hack", "kind", "test-lab.yaml"), "--bundle", suite.bundle, "--yes")
	fmt.Fprintf(os.Stderr, "kind suite: lab up --bundle took %s\n%s", time.Since(start).Round(time.Second), res.stderr)
	if res.code != 0 {
		return fmt.Errorf("lab up --bundle: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	return nil
}

func tearDown() error {
	if suite.lab == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if res := lab(ctx, "down", "--yes"); res.code != 0 {
		return fmt.Errorf("lab down: exit %d\n%s", res.code, res.stderr)
	}
	return leftovers()
}

// leftovers fails when Docker still holds anything of the lab's cluster after lab down.
func leftovers() error {
	var left []string
	for _, what := range [][]string{
		{"ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=" + clusterName(), "--format", "container {{.Names}}"},
		{"volume", "ls", "--filter", "label=io.x-k8s.kind.cluster=" + clusterName(), "--format", "volume {{.Name}}"},
	} {
		out, err := exec.Command("docker", what...).Output()
		if err != nil {
			return fmt.Errorf("docker %s: %v", strings.Join(what, " "), err)
		}
		left = append(left, strings.Fields(strings.TrimSpace(string(out)))...)
	}
	for _, v := range danglingVolumes() {
		if !slices.Contains(suite.volumes, v) {
			left = append(left, "volume", v)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("lab down left behind: %s", strings.Join(left, " "))
	}
	return nil
}

// danglingVolumes lists the Docker volumes no container uses (kind's nodes each have one
// for /var while they exist).
func danglingVolumes() []string {
	out, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "dangling=true").Output()
	return strings.Fields(string(out))
}

// clusterName is the kind cluster of the suite's lab (internal/cluster/kind.ClusterName).
func clusterName() string { return "lab-" + suite.name }

type result struct {
	code           int
	stdout, stderr string
}

// lab runs the lab binary with the suite's environment.
func lab(ctx context.Context, args ...string) result {
	cmd := exec.CommandContext(ctx, suite.lab, append(args, "--name", suite.name)...)
	cmd.Env = suite.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func mustLab(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	res := lab(ctx, args...)
	if res.code != 0 {
		t.Fatalf("lab %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}
