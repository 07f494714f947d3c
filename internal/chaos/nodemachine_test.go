package chaos

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

// scriptedDocker plays the docker CLI for kind's node containers, which the kind
// provider's Machines drive: the commands node-stop and node-pause run and their order,
// on the shared sim cluster's Node objects. The kind suite (test/kind) runs both
// against real node containers.
type scriptedDocker struct {
	mu        sync.Mutex
	reachable bool
	states    map[string]string
	calls     []string
}

func (d *scriptedDocker) run(_ context.Context, name string, args ...string) ([]byte, []byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, name+" "+strings.Join(args, " "))
	if !d.reachable {
		return nil, []byte("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"), errors.New("exit status 1")
	}
	container := args[len(args)-1]
	state, ok := d.states[container]
	if args[0] != "info" && !ok {
		return nil, []byte("Error: No such container: " + container), errors.New("exit status 1")
	}
	switch args[0] {
	case "info":
		return []byte("28.1.1\n"), nil, nil
	case "inspect":
		return []byte(state + "\n"), nil, nil
	case "stop":
		d.states[container] = "exited"
	case "start":
		d.states[container] = "running"
	case "pause":
		d.states[container] = "paused"
	case "unpause":
		if state != "paused" {
			return nil, []byte("Container " + container + " is not paused"), errors.New("exit status 1")
		}
		d.states[container] = "running"
	}
	return []byte(container + "\n"), nil, nil
}

func TestNodeContainerFaultsOnKind(t *testing.T) {
	t.Parallel()
	worker := shared.Name + "-worker"
	tests := []struct {
		fault     string
		wantCalls []string
		broken    string
	}{
		{fault: "node-stop", broken: "exited", wantCalls: []string{
			"docker info --format {{.ServerVersion}}", "docker inspect --format {{.State.Status}} " + worker,
			"docker stop " + worker, "docker inspect --format {{.State.Status}} " + worker, "docker start " + worker}},
		{fault: "node-pause", broken: "paused", wantCalls: []string{
			"docker info --format {{.ServerVersion}}", "docker inspect --format {{.State.Status}} " + worker,
			"docker pause " + worker, "docker inspect --format {{.State.Status}} " + worker, "docker unpause " + worker}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			docker := &scriptedDocker{reachable: true, states: map[string]string{worker: "running"}}
			e := testEngine(nil)
			// A lab whose provider is kind, on the shared cluster: its nodes are real
			// Node objects, its containers the scripted ones.
			l := simLab(t)
			l.Simulated, l.Machines = false, kind.New(kind.WithCommandRunner(docker.run)).Machines(cluster.Request{})
			ctx := context.Background()
			plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: tt.fault, Params: params(spec.FaultParams{Node: worker}, "node"), Limits: DefaultLimits})
			if err != nil {
				t.Fatal(err)
			}
			entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if got := docker.states[worker]; got != tt.broken {
				t.Errorf("container %s while injected, want %s", got, tt.broken)
			}
			assertAnnotated(t, env, ObjectRef{Kind: "Node", Name: worker}, entry.ID)
			if err := e.Stop(ctx, env, f, entry); err != nil {
				t.Fatal(err)
			}
			if got := docker.states[worker]; got != "running" {
				t.Errorf("container %s after revert, want running", got)
			}
			if got := strings.Join(docker.calls, "\n"); got != strings.Join(tt.wantCalls, "\n") {
				t.Errorf("docker calls:\n%s\nwant:\n%s", got, strings.Join(tt.wantCalls, "\n"))
			}
			// Reverting again finds the container running and does nothing.
			calls := len(docker.calls)
			if err := f.Revert(ctx, env, entry); err != nil || len(docker.calls) != calls+1 {
				t.Errorf("second revert: %v, calls %v", err, docker.calls[calls:])
			}
		})
	}
}

func TestNodeContainerFaultsRefuseWhatTheyCannotDo(t *testing.T) {
	t.Parallel()
	cp := shared.Name + "-control-plane"
	worker := shared.Name + "-worker"
	tests := []struct {
		name      string
		reachable bool
		node      string
		want      []string
	}{
		{name: "Docker not reachable", node: worker, want: []string{"node-stop cannot run", "Docker is not reachable", "Cannot connect to the Docker daemon"}},
		{name: "the control plane", reachable: true, node: cp, want: []string{"runs the control plane", "--include-system"}},
		{name: "a node with no container", reachable: true, node: worker, want: []string{"No such container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			states := map[string]string{cp: "running"}
			docker := &scriptedDocker{reachable: tt.reachable, states: states}
			e := testEngine(nil)
			l := simLab(t)
			l.Simulated, l.Machines = false, kind.New(kind.WithCommandRunner(docker.run)).Machines(cluster.Request{})
			_, err := e.Run(context.Background(), l, RunOptions{Fault: "node-stop", Params: params(spec.FaultParams{Node: tt.node}, "node"), Limits: DefaultLimits})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error()+errs.HintOf(err), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, c := range docker.calls {
				if strings.HasPrefix(c, "docker stop") {
					t.Errorf("a refused node-stop ran %q", c)
				}
			}
		})
	}
}
