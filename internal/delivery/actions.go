package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Actions on a rollout: a manual judgment's answers.
const (
	ActionPromote     = "promote"
	ActionPromoteFull = "promote-full"
	ActionAbort       = "abort"
	ActionRetry       = "retry"
)

// Actions lists what Act accepts.
func Actions() []string { return []string{ActionPromote, ActionPromoteFull, ActionAbort, ActionRetry} }

// Act steers a rollout the way the Argo Rollouts kubectl plugin does: promote ends
// the current pause (a pause step, blue/green's wait for promotion, an inconclusive
// analysis) or moves past a running step; promote-full skips every remaining step and
// analysis; abort scales the new version down and sends traffic back to the stable
// one; retry starts an aborted rollout again. It returns the rollout as it stands
// after the patch.
func (c *Client) Act(ctx context.Context, namespace, name, action string) (*Rollout, error) {
	obj, err := c.find(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	var ro rolloutObject
	if err := decode(obj, &ro); err != nil {
		return nil, err
	}
	spec, status, err := patches(&ro, action)
	if err != nil {
		return nil, err
	}
	if err := c.patch(ctx, obj, spec, status); err != nil {
		return nil, err
	}
	return c.Get(ctx, obj.GetNamespace(), obj.GetName())
}

// patches are the merge patches of spec and status an action needs (nil when none).
func patches(ro *rolloutObject, action string) (spec, status map[string]any, err error) {
	st := ro.Status
	switch action {
	case ActionAbort:
		return nil, map[string]any{"abort": true}, nil
	case ActionRetry:
		if !st.Abort {
			return nil, nil, errs.Invalidf("retry starts an aborted rollout again; this one can be promoted or aborted",
				"rollout %s/%s is not aborted", ro.Metadata.Namespace, ro.Metadata.Name)
		}
		return nil, map[string]any{"abort": false}, nil
	case ActionPromoteFull:
		if st.CurrentPodHash != st.StableRS {
			status = map[string]any{"promoteFull": true}
		}
		return unpause(ro), status, nil
	case ActionPromote:
		return unpause(ro), promoteStatus(ro), nil
	}
	return nil, nil, errs.Invalidf("one of promote, promote-full, abort, retry", "unknown rollout action %q", action)
}

func unpause(ro *rolloutObject) map[string]any {
	if ro.Spec.Paused {
		return map[string]any{"paused": false}
	}
	return nil
}

// promoteStatus clears the pause conditions, or, when nothing pauses a canary, moves
// it to its next step; for an inconclusive analysis it does both and lifts the
// controller's own pause, as the plugin does.
func promoteStatus(ro *rolloutObject) map[string]any {
	st := ro.Status
	paused := len(st.PauseConditions) > 0
	canary := ro.Spec.Strategy.Canary
	next := func() any {
		i := 0
		if st.CurrentStepIndex != nil {
			i = *st.CurrentStepIndex
		}
		if canary != nil && i < len(canary.Steps) {
			i++
		}
		return i
	}
	inconclusive := canary != nil && st.Canary.CurrentStepAnalysisRunStatus != nil &&
		st.Canary.CurrentStepAnalysisRunStatus.Status == AnalysisInconclusive
	switch {
	case inconclusive && paused && st.ControllerPause:
		return map[string]any{"pauseConditions": nil, "controllerPause": false, "currentStepIndex": next()}
	case paused:
		return map[string]any{"pauseConditions": nil}
	case canary != nil && len(canary.Steps) > 0:
		return map[string]any{"pauseConditions": nil, "currentStepIndex": next()}
	}
	return nil
}

// patch applies the status patch through the status subresource (where the
// controller reads it) and the spec patch to the object.
func (c *Client) patch(ctx context.Context, obj *unstructured.Unstructured, spec, status map[string]any) error {
	res := c.Dynamic.Resource(RolloutsResource).Namespace(obj.GetNamespace())
	what := "rollout " + obj.GetNamespace() + "/" + obj.GetName()
	if status != nil {
		body, _ := json.Marshal(map[string]any{"status": status})
		if _, err := res.Patch(ctx, obj.GetName(), types.MergePatchType, body, metav1.PatchOptions{}, "status"); err != nil {
			return apiErr(err, "patch "+what)
		}
	}
	if spec != nil {
		body, _ := json.Marshal(map[string]any{"spec": spec})
		if _, err := res.Patch(ctx, obj.GetName(), types.MergePatchType, body, metav1.PatchOptions{}); err != nil {
			return apiErr(err, "patch "+what)
		}
	}
	return nil
}

// WaitPaused waits until the controller reports the rollout paused (a pause step,
// blue/green's preview, an inconclusive analysis), which is when a manual judgment
// is asked for, and returns it then.
func (c *Client) WaitPaused(ctx context.Context, namespace, name string, timeout, interval time.Duration) (*Rollout, error) {
	return c.wait(ctx, namespace, name, timeout, interval, "pause", func(ro *Rollout) bool { return len(ro.Paused) > 0 })
}

// WaitHealthy waits until the controller reports the rollout Healthy: every step done
// and the stable version fully available. A new version shipped before the first one
// is healthy is rolled out at once as an "initial deploy", without steps or pauses.
func (c *Client) WaitHealthy(ctx context.Context, namespace, name string, timeout, interval time.Duration) (*Rollout, error) {
	return c.wait(ctx, namespace, name, timeout, interval, "become healthy", func(ro *Rollout) bool { return ro.Phase == PhaseHealthy })
}

// wait polls the rollout until the controller has seen its current spec and cond
// holds. A rollout that does not exist yet is waited for; any other error ends it.
func (c *Client) wait(ctx context.Context, namespace, name string, timeout, interval time.Duration, what string, cond func(*Rollout) bool) (*Rollout, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last *Rollout
	for {
		ro, err := c.Get(ctx, namespace, name)
		switch {
		case err == nil && ro.Observed && cond(ro):
			return ro, nil
		case err == nil:
			last = ro
		case ctx.Err() == nil && !isNotFound(err):
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, notReached(namespace, name, what, timeout, last)
		case <-time.After(interval):
		}
	}
}

func notReached(namespace, name, what string, timeout time.Duration, last *Rollout) error {
	state := "it does not exist"
	if last != nil {
		state = "phase " + last.Phase
		if last.Phase == "" {
			state = "no status: is the Argo Rollouts controller running?"
		}
		if last.Message != "" {
			state += ", " + last.Message
		}
	}
	return errs.Wrap(errs.Unavailable, context.DeadlineExceeded,
		fmt.Sprintf("rollout %s/%s did not %s within %s (%s)", namespace, name, what, timeout, state),
		"`lab delivery status "+name+"` shows where it is")
}
