package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

// CommandRunner runs a program and returns its stdout and stderr; node-stop and
// node-pause run docker through it, so tests can play Docker's answers.
type CommandRunner func(ctx context.Context, name string, args ...string) (stdout, stderr []byte, err error)

// ExecRunner runs commands with os/exec.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// nodeDocker stops or pauses a kind node's container: node-stop (docker stop, revert
// docker start) or node-pause (docker pause, revert docker unpause). kind names each
// node's container after the node.
type nodeDocker struct{ name string }

const dockerTimeout = 30 * time.Second

func (f nodeDocker) Name() string { return f.name }
func (f nodeDocker) Summary() string {
	if f.name == "node-pause" {
		return "pause a node's container through Docker (kind only); revert unpauses it"
	}
	return "stop a node's container through Docker (kind only); revert starts it"
}
func (nodeDocker) Params() []string { return []string{"node"} }

func (f nodeDocker) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkRequired(p, &errs, "node")
	return errs
}

func (f nodeDocker) Support(ctx context.Context, env *Env) Support {
	switch env.Lab.Provider {
	case spec.ProviderKind:
	case spec.ProviderSim:
		return unsupportedBy("unsupported on sim: kwok simulates the nodes, so there is no node container to " + f.verb() + " (kind only)")
	default:
		return unsupportedBy("unsupported on " + env.Lab.Provider + ": lab cannot reach the machines of a cluster it did not create (kind only)")
	}
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if _, err := docker(ctx, env, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return unsupportedBy("Docker is not reachable, and kind's nodes are its containers: " + err.Error())
	}
	return supported()
}

func (f nodeDocker) verb() string { return strings.TrimPrefix(f.name, "node-") }

type nodeDockerData struct {
	Node string `json:"node"`
	// Container is the node's container; kind names it after the node.
	Container string `json:"container"`
}

func (f nodeDocker) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	node, err := env.Client.CoreV1().Nodes().Get(ctx, p.Node, metav1.GetOptions{})
	if err != nil {
		return nil, nodeError(p.Node, err)
	}
	if _, cp := node.Labels["node-role.kubernetes.io/control-plane"]; cp && !lim.IncludeSystem {
		return nil, errs.Invalidf(lim.allow("includeSystem")+" to "+f.verb()+" it anyway",
			"node %s runs the control plane: to %s it is to %s the API server too", node.Name, f.verb(), f.verb())
	}
	d := &nodeDockerData{Node: node.Name, Container: node.Name}
	status, err := containerStatus(ctx, env, d.Container)
	if err != nil {
		return nil, err
	}
	if status != "running" {
		return nil, errs.Invalidf("", "the container of node %s is %s, not running", node.Name, status)
	}
	ref := ObjectRef{Kind: "Node", Name: node.Name}
	return &Plan{
		Fault:   f.Name(),
		Summary: fmt.Sprintf("%s the container of node %s", f.verb(), node.Name),
		Changes: []Change{{Action: f.verb(), ObjectRef: ref, Detail: "docker " + f.verb() + " " + d.Container}},
		Targets: []ObjectRef{ref},
		Watch:   []ObjectRef{ref},
		data:    d,
	}, nil
}

func (f nodeDocker) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[nodeDockerData](e)
	if err != nil {
		return err
	}
	_, err = docker(ctx, env, f.verb(), d.Container)
	return err
}

// Revert starts or unpauses the container, unless it is running already.
func (f nodeDocker) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[nodeDockerData](e)
	if err != nil {
		return err
	}
	status, err := containerStatus(ctx, env, d.Container)
	if err != nil {
		return err
	}
	switch {
	case status == "running":
		return nil
	case status == "paused":
		_, err = docker(ctx, env, "unpause", d.Container)
	default:
		_, err = docker(ctx, env, "start", d.Container)
	}
	return err
}

// containerStatus is docker's State.Status: running, paused, exited, ...
func containerStatus(ctx context.Context, env *Env, container string) (string, error) {
	out, err := docker(ctx, env, "inspect", "--format", "{{.State.Status}}", container)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// docker runs one docker command, bounded in time, with an error that says what failed.
func docker(ctx context.Context, env *Env, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	stdout, stderr, err := env.Docker(ctx, "docker", args...)
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
