package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

// nodeMachine stops or pauses the machine behind a node, through the lab's provider
// (kind: the node's container): node-stop (revert starts it) or node-pause (revert
// unpauses it).
type nodeMachine struct{ name string }

func (f nodeMachine) Name() string { return f.name }
func (f nodeMachine) Summary() string {
	if f.name == "node-pause" {
		return "pause a node's container through Docker (kind only); revert unpauses it"
	}
	return "stop a node's container through Docker (kind only); revert starts it"
}
func (nodeMachine) Params() []string { return []string{"node"} }

func (f nodeMachine) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkRequired(p, &errs, "node")
	return errs
}

func (f nodeMachine) Support(ctx context.Context, env *Env) Support {
	switch {
	case env.Lab.Machines != nil:
	case env.Lab.Simulated:
		return unsupportedBy("unsupported on sim: kwok simulates the nodes, so there is no node container to " + f.verb() + " (kind only)")
	default:
		return unsupportedBy("unsupported on an adopted cluster: lab cannot reach the machines of a cluster it did not create (kind only)")
	}
	if err := env.Lab.Machines.Reachable(ctx); err != nil {
		return unsupportedBy(err.Error())
	}
	return supported()
}

func (f nodeMachine) verb() string { return strings.TrimPrefix(f.name, "node-") }

type nodeMachineData struct {
	Node string `json:"node"`
	// Container is the node's machine as the journal recorded it (kind names a node's
	// container after the node); revert acts on Node.
	Container string `json:"container"`
}

func (f nodeMachine) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	node, err := env.Client.CoreV1().Nodes().Get(ctx, p.Node, metav1.GetOptions{})
	if err != nil {
		return nil, nodeError(p.Node, err)
	}
	if _, cp := node.Labels["node-role.kubernetes.io/control-plane"]; cp && !lim.IncludeSystem {
		return nil, errs.Invalidf(lim.allow("includeSystem")+" to "+f.verb()+" it anyway",
			"node %s runs the control plane: to %s it is to %s the API server too", node.Name, f.verb(), f.verb())
	}
	d := &nodeMachineData{Node: node.Name, Container: node.Name}
	status, err := env.Lab.Machines.State(ctx, d.Node)
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
		Changes: []Change{{Action: f.verb(), ObjectRef: ref, Detail: f.verb() + " the machine of node " + d.Node + " (" + d.Container + ")"}},
		Targets: []ObjectRef{ref},
		Watch:   []ObjectRef{ref},
		data:    d,
	}, nil
}

func (f nodeMachine) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[nodeMachineData](e)
	if err != nil {
		return err
	}
	if f.verb() == "pause" {
		return env.Lab.Machines.Pause(ctx, d.Node)
	}
	return env.Lab.Machines.Stop(ctx, d.Node)
}

// Revert starts or unpauses the machine, unless it is running already.
func (f nodeMachine) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[nodeMachineData](e)
	if err != nil {
		return err
	}
	if env.Lab.Machines == nil {
		return errs.New(errs.Unavailable, fmt.Sprintf("lab %q has no node machines lab can reach to revert %s on node %s", env.Lab.Name, f.name, d.Node), "")
	}
	status, err := env.Lab.Machines.State(ctx, d.Node)
	if err != nil {
		return err
	}
	switch status {
	case "running":
		return nil
	case "paused":
		return env.Lab.Machines.Unpause(ctx, d.Node)
	default:
		return env.Lab.Machines.Start(ctx, d.Node)
	}
}
