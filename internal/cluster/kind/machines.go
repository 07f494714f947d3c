package kind

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
)

// machineTimeout bounds each docker command on a node container.
const machineTimeout = 30 * time.Second

// machines acts on kind's node containers with the docker CLI. kind names each node's
// container after the node, so a node name is a container name.
type machines struct{ run CommandRunner }

var _ cluster.MachineProvider = (*Provider)(nil)

// Machines are the lab's node containers.
func (p *Provider) Machines(cluster.Request) cluster.Machines { return machines{run: p.run} }

func (m machines) Reachable(ctx context.Context) error {
	if _, err := m.docker(ctx, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return errs.Wrap(errs.Unavailable, err, "Docker is not reachable, and kind's nodes are its containers: "+err.Error(), dockerHint)
	}
	return nil
}

// State is docker's State.Status of the node's container: running, paused, exited, ...
func (m machines) State(ctx context.Context, node string) (string, error) {
	out, err := m.docker(ctx, "inspect", "--format", "{{.State.Status}}", node)
	return strings.TrimSpace(out), err
}

func (m machines) Stop(ctx context.Context, node string) error    { return m.act(ctx, "stop", node) }
func (m machines) Start(ctx context.Context, node string) error   { return m.act(ctx, "start", node) }
func (m machines) Pause(ctx context.Context, node string) error   { return m.act(ctx, "pause", node) }
func (m machines) Unpause(ctx context.Context, node string) error { return m.act(ctx, "unpause", node) }

func (m machines) act(ctx context.Context, verb, node string) error {
	_, err := m.docker(ctx, verb, node)
	return err
}

// docker runs one docker command, bounded in time, with an error that says what failed.
func (m machines) docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, machineTimeout)
	defer cancel()
	stdout, stderr, err := m.run(ctx, "docker", args...)
	if errors.Is(err, exec.ErrNotFound) {
		return "", errs.Wrap(errs.Unavailable, err, "Docker is not installed (no docker command in PATH)", "")
	}
	if err != nil {
		msg := strings.TrimSpace(string(stderr))
		if msg == "" {
			msg = err.Error()
		}
		return "", errs.New(errs.Unavailable, fmt.Sprintf("docker %s: %s", strings.Join(args, " "), msg), "")
	}
	return string(stdout), nil
}
