package kind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

const gibibyte = int64(1) << 30

func dockerInfoWithMemory(bytes int64, securityOptions ...string) string {
	opts := `"name=seccomp,profile=builtin"`
	for _, o := range securityOptions {
		opts += fmt.Sprintf(`,%q`, o)
	}
	return fmt.Sprintf(`{"ServerVersion":"28.2.2","MemTotal":%d,"SecurityOptions":[%s]}`, bytes, opts)
}

// No ports, so that these cases do not depend on which host ports are free.
var noPorts = spec.ClusterSpec{Ports: []int{}}

var oneControlPlaneTwoWorkers = spec.ClusterSpec{Ports: []int{}, Nodes: []spec.NodeGroup{
	{Role: spec.RoleControlPlane, Count: 1},
	{Role: spec.RoleWorker, Count: 2},
}}

func TestPreflight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(*fakeEnv)
		spec     spec.ClusterSpec
		opts     []Option
		extra    int64     // the stacks' footprint, as the lab engine puts it in the request
		wantKind errs.Kind // checked when wantErr is set
		wantErr  []string  // parts of the error; none means success
		wantHint []string
		wantWarn []string // parts of the one expected warning
	}{
		{
			name: "daemon down",
			setup: func(f *fakeEnv) {
				f.infoStdout = `{"ID":"","ServerVersion":"","MemTotal":0}`
				f.infoStderr = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
				f.infoErr = errors.New("exit status 1")
			},
			spec:     noPorts,
			wantKind: errs.Unavailable,
			wantErr:  []string{"Docker is not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock"},
			wantHint: []string{"Start Docker Desktop", "sudo systemctl start docker", "--provider sim"},
		},
		{
			name: "daemon down reported in ServerErrors",
			setup: func(f *fakeEnv) {
				f.infoStdout = `{"ServerErrors":["error during connect: open //./pipe/docker_engine: The system cannot find the file specified."]}`
			},
			spec:     noPorts,
			wantKind: errs.Unavailable,
			wantErr:  []string{"Docker is not reachable: error during connect"},
			wantHint: []string{"--provider sim"},
		},
		{
			name:     "daemon does not answer in time",
			setup:    func(f *fakeEnv) { f.infoBlocks = true },
			spec:     noPorts,
			wantKind: errs.Unavailable,
			wantErr:  []string{"Docker is not reachable", "did not answer within"},
		},
		{
			name:     "docker CLI missing",
			setup:    func(f *fakeEnv) { f.infoErr = &exec.Error{Name: "docker", Err: exec.ErrNotFound} },
			spec:     noPorts,
			wantKind: errs.Unavailable,
			wantErr:  []string{"Docker is not installed"},
			wantHint: []string{"Install Docker", "--provider sim"},
		},
		{
			name:     "too little memory",
			setup:    func(f *fakeEnv) { f.infoStdout = dockerInfoWithMemory(2 * gibibyte) },
			spec:     oneControlPlaneTwoWorkers,
			wantKind: errs.Unavailable,
			wantErr:  []string{"Docker can use 2.0 GiB", "needs about 3.5 GiB", "1 control-plane and 2 worker"},
			wantHint: []string{"memory limit", "fewer nodes"},
		},
		{
			name:     "extra memory for stacks counts",
			setup:    func(f *fakeEnv) { f.infoStdout = dockerInfoWithMemory(3 * gibibyte) },
			spec:     noPorts,
			opts:     []Option{WithExtraMemory(2 * gibibyte)},
			wantKind: errs.Unavailable,
			wantErr:  []string{"needs about 3.5 GiB"},
		},
		{
			name:     "the stacks' footprint in the request counts",
			setup:    func(f *fakeEnv) { f.infoStdout = dockerInfoWithMemory(3 * gibibyte) },
			spec:     noPorts,
			extra:    2 * gibibyte,
			wantKind: errs.Unavailable,
			wantErr:  []string{"needs about 3.5 GiB"},
		},
		{
			name:     "memory within the warning margin",
			setup:    func(f *fakeEnv) { f.infoStdout = dockerInfoWithMemory(4 * gibibyte) },
			spec:     oneControlPlaneTwoWorkers,
			wantWarn: []string{"4.0 GiB", "3.5 GiB"},
		},
		{
			name:  "enough memory",
			setup: func(f *fakeEnv) { f.infoStdout = dockerInfoWithMemory(5 * gibibyte) },
			spec:  oneControlPlaneTwoWorkers,
		},
		{
			name:     "version patch kind does not publish",
			spec:     spec.ClusterSpec{Ports: []int{}, KubernetesVersion: "v1.36.2"},
			wantWarn: []string{"publishes Kubernetes v1.36.4, not v1.36.2"},
		},
		{
			name:     "invalid spec is reported before asking Docker",
			setup:    func(f *fakeEnv) { f.infoErr = &exec.Error{Name: "docker", Err: exec.ErrNotFound} },
			spec:     spec.ClusterSpec{KubernetesVersion: "v1.30"},
			wantKind: errs.Invalid,
			wantErr:  []string{"v1.30", "available: v1.34, v1.35, v1.36"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newFakeEnv()
			if tt.setup != nil {
				tt.setup(env)
			}
			rec := &event.Recorder{}
			req := request(t.TempDir(), tt.spec)
			req.ExtraMemory = tt.extra
			err := env.provider(tt.opts...).Preflight(context.Background(), req, event.NewEmitter(rec))
			checkPreflight(t, err, rec, tt.wantKind, tt.wantErr, tt.wantHint, tt.wantWarn)
		})
	}
}

func checkPreflight(t *testing.T, err error, rec *event.Recorder, kind errs.Kind, wantErr, wantHint, wantWarn []string) {
	t.Helper()
	if len(wantErr) == 0 && err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	if len(wantErr) > 0 {
		assertErr(t, err, kind, wantErr...)
	}
	for _, part := range wantHint {
		if !strings.Contains(errs.HintOf(err), part) {
			t.Errorf("hint %q does not say %q", errs.HintOf(err), part)
		}
	}
	warns := warnings(rec)
	if len(wantWarn) == 0 && len(warns) > 0 {
		t.Errorf("unexpected warnings %q", warns)
	}
	if len(wantWarn) > 0 {
		if len(warns) != 1 {
			t.Fatalf("warnings = %q, want one", warns)
		}
		for _, part := range wantWarn {
			if !strings.Contains(warns[0], part) {
				t.Errorf("warning %q does not say %q", warns[0], part)
			}
		}
	}
}

// busyPort holds a real listener for the test's duration and returns its port.
func busyPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestPreflightBusyPort(t *testing.T) {
	t.Parallel()
	port := busyPort(t)
	env := newFakeEnv()
	err := env.provider().Preflight(context.Background(),
		request(t.TempDir(), spec.ClusterSpec{Ports: []int{port}}), event.NewEmitter(nil))
	assertErr(t, err, errs.Unavailable, fmt.Sprintf("host port %d is already in use", port))
	if hint := errs.HintOf(err); !strings.Contains(hint, "ports:") || !strings.Contains(hint, fmt.Sprint(port)) {
		t.Errorf("hint %q should name the port and `ports:`", hint)
	}
}

func TestPreflightSkipsPortsOfExistingCluster(t *testing.T) {
	t.Parallel()
	port := busyPort(t) // as the existing cluster's own container would hold it
	env := newFakeEnv()
	env.addCluster("lab-demo", NodeCounts{ControlPlanes: 1})
	err := env.provider().Preflight(context.Background(),
		request(t.TempDir(), spec.ClusterSpec{Ports: []int{port}}), event.NewEmitter(nil))
	if err != nil {
		t.Fatalf("Preflight of an existing cluster checked its ports: %v", err)
	}
}

func TestPreflightPrivilegedPort(t *testing.T) {
	t.Parallel()
	denied := func(network, address string) (net.Listener, error) {
		return nil, &net.OpError{Op: "listen", Net: network, Err: os.NewSyscallError("bind", syscall.EACCES)}
	}
	tests := []struct {
		name     string
		info     string
		wantErr  []string
		wantWarn []string
	}{
		{
			name:    "rootless Docker cannot bind it either",
			info:    dockerInfoWithMemory(8*gibibyte, "name=rootless"),
			wantErr: []string{"host port 80 is privileged (below 1024)", "rootless"},
		},
		{
			name:     "rootful Docker binds it as root",
			info:     dockerInfoWithMemory(8 * gibibyte),
			wantWarn: []string{"could not check host port 80", "privileges"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newFakeEnv()
			env.infoStdout = tt.info
			p := env.provider()
			p.listen = denied
			rec := &event.Recorder{}
			err := p.Preflight(context.Background(), request(t.TempDir(), spec.ClusterSpec{Ports: []int{80}}), event.NewEmitter(rec))
			var hint []string
			if len(tt.wantErr) > 0 {
				hint = []string{"ports:", "ip_unprivileged_port_start"}
			}
			checkPreflight(t, err, rec, errs.Unavailable, tt.wantErr, hint, tt.wantWarn)
		})
	}
}

func TestNodeMemory(t *testing.T) {
	t.Parallel()
	if got, want := NodeMemory(NodeCounts{ControlPlanes: 1, Workers: 2}), int64(3584)<<20; got != want {
		t.Errorf("NodeMemory(1 cp, 2 workers) = %d, want %d", got, want)
	}
}

// TestDockerReachableOnThisMachine runs the real check against the real docker CLI:
// where no daemon runs, it must say so the way the user will read it.
func TestDockerReachableOnThisMachine(t *testing.T) {
	t.Parallel()
	err := DockerReachable(context.Background())
	if err == nil {
		t.Skip("a Docker daemon answers on this machine, so the unreachable path cannot be exercised here")
	}
	if _, lookErr := exec.LookPath("docker"); lookErr != nil {
		assertErr(t, err, errs.Unavailable, "Docker is not installed")
		return
	}
	assertErr(t, err, errs.Unavailable, "Docker is not reachable")
	if !strings.Contains(errs.HintOf(err), "--provider sim") {
		t.Errorf("hint %q does not offer the sim provider", errs.HintOf(err))
	}
	t.Logf("DockerReachable: %v (hint: %s)", err, errs.HintOf(err))

	// The provider's own preflight goes through the same real path.
	preflightErr := New().Preflight(context.Background(), request(t.TempDir(), noPorts), event.NewEmitter(nil))
	assertErr(t, preflightErr, errs.Unavailable, err.Error())
}

// TestDockerCLIMissingForReal runs a command that does not exist, as on a machine
// without Docker installed.
func TestDockerCLIMissingForReal(t *testing.T) {
	t.Parallel()
	missing := func(ctx context.Context, _ string, args ...string) ([]byte, []byte, error) {
		return ExecRunner(ctx, "lab-test-no-such-docker", args...)
	}
	_, err := readDockerInfo(context.Background(), missing, DefaultDockerTimeout)
	assertErr(t, err, errs.Unavailable, "Docker is not installed")
}
