package kind

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// CommandRunner runs a program and returns what it wrote to stdout and stderr. The
// preflight checks run docker through it so that tests can play any answer.
type CommandRunner func(ctx context.Context, name string, args ...string) (stdout, stderr []byte, err error)

// ExecRunner runs commands with os/exec.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// DefaultDockerTimeout bounds `docker info`: a wedged daemon (or Docker Desktop still
// starting) can otherwise hang it for minutes.
const DefaultDockerTimeout = 15 * time.Second

const dockerHint = "Start Docker Desktop (or `sudo systemctl start docker`), or use `--provider sim` for a Docker-free lab"

// dockerInfo is the part of `docker info` the preflight reads.
type dockerInfo struct {
	ServerVersion   string   `json:"ServerVersion"`
	MemTotal        int64    `json:"MemTotal"`
	NCPU            int      `json:"NCPU"`
	SecurityOptions []string `json:"SecurityOptions"`
	// ServerErrors is how docker info reports an unreachable daemon in some versions,
	// with exit status 0 or 1 depending on the version.
	ServerErrors []string `json:"ServerErrors"`
}

// rootless reports whether the daemon runs rootless: it then cannot bind host ports
// below the unprivileged port start.
func (i dockerInfo) rootless() bool {
	for _, opt := range i.SecurityOptions {
		if strings.Contains(opt, "name=rootless") {
			return true
		}
	}
	return false
}

// DockerReachable returns nil when the Docker daemon answers, else an *errs.Error of
// kind Unavailable saying what to start. The auto provider resolution calls it.
func DockerReachable(ctx context.Context) error {
	_, err := readDockerInfo(ctx, ExecRunner, DefaultDockerTimeout)
	return err
}

// readDockerInfo runs `docker info` and explains every way it can fail.
func readDockerInfo(ctx context.Context, run CommandRunner, timeout time.Duration) (dockerInfo, error) {
	infoCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdout, stderr, runErr := run(infoCtx, "docker", "info", "--format", "{{json .}}")
	if ctx.Err() != nil {
		return dockerInfo{}, ctx.Err() // the caller gave up (Ctrl-C): not Docker's fault
	}
	if errors.Is(runErr, exec.ErrNotFound) {
		return dockerInfo{}, errs.Wrap(errs.Unavailable, runErr,
			"Docker is not installed (no docker command in PATH)",
			"Install Docker (https://docs.docker.com/get-docker/), or use `--provider sim` for a Docker-free lab")
	}
	if infoCtx.Err() != nil {
		return dockerInfo{}, unreachable(fmt.Sprintf("docker info did not answer within %s", timeout))
	}
	var info dockerInfo
	jsonErr := json.Unmarshal(lastJSONLine(stdout), &info)
	if len(info.ServerErrors) > 0 {
		return dockerInfo{}, unreachable(info.ServerErrors[0])
	}
	if runErr != nil {
		return dockerInfo{}, unreachable(firstLine(stderr, runErr))
	}
	if jsonErr != nil || info.ServerVersion == "" {
		return dockerInfo{}, unreachable("docker info did not report a server")
	}
	return info, nil
}

// unreachable is the error for a docker CLI that cannot talk to its daemon.
func unreachable(cause string) error {
	cause = strings.TrimSuffix(cause, " Is the docker daemon running?")
	cause = strings.TrimSuffix(cause, ".")
	return &errs.Error{Kind: errs.Unavailable, Msg: "Docker is not reachable", Hint: dockerHint, Err: errors.New(cause)}
}

// lastJSONLine skips warnings some docker versions print before the JSON document.
func lastJSONLine(stdout []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	return lines[len(lines)-1]
}

// firstLine is the first non-empty line of a command's stderr, or the run error.
func firstLine(stderr []byte, runErr error) string {
	for _, line := range strings.Split(string(stderr), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "ERROR:"))
		if line != "" {
			return line
		}
	}
	return runErr.Error()
}

// containerStates returns docker's state ("running", "exited"...) of each container.
func containerStates(ctx context.Context, run CommandRunner, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	args := append([]string{"inspect", "--format", "{{.Name}} {{.State.Status}}"}, names...)
	stdout, stderr, err := run(ctx, "docker", args...)
	if err != nil {
		return nil, fmt.Errorf("docker inspect: %s", firstLine(stderr, err))
	}
	states := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		name, state, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok {
			states[strings.TrimPrefix(name, "/")] = state
		}
	}
	return states, nil
}
