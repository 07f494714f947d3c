package grade

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/spec"
)

func (t *Targets) rolloutProbe(r *spec.RolloutCheck) probe {
	ev := Evidence{Object: "rollout " + r.Namespace + "/" + r.Name, Expected: rolloutExpected(r)}
	return func(ctx context.Context) observation {
		if t.RolloutErr != nil {
			return unavailable(ev, t.RolloutErr)
		}
		k, err := t.kube()
		if err != nil {
			return unavailable(ev, err)
		}
		c := &delivery.Client{Dynamic: k.Dynamic, Kube: k.Typed}
		ro, err := getObserved(ctx, c, r.Namespace, r.Name)
		if err != nil {
			// Not found may change (the trainee has yet to create it); an API without
			// Rollouts is reported the same way, the hint saying which stack gives it.
			return errored(ev, "not read", err)
		}
		ev.Actual = describeRollout(ro)
		if ev.Diff = rolloutDiff(ro, r); len(ev.Diff) > 0 {
			return failed(ev)
		}
		return passed(ev)
	}
}

// observeWait bounds how long one look waits for the controller to catch up with a
// rollout's spec. Right after a change its status describes the previous spec for a
// moment: judged then, a gameday's single probe would report a failure that is not
// one, and a check could pass on the old version's status.
const observeWait = 5 * time.Second

// getObserved reads the rollout, again every quarter second while the controller has
// not yet seen its current spec, up to observeWait.
func getObserved(ctx context.Context, c *delivery.Client, namespace, name string) (*delivery.Rollout, error) {
	deadline := time.Now().Add(observeWait)
	for {
		ro, err := c.Get(ctx, namespace, name)
		if err != nil || ro.Observed || time.Now().After(deadline) {
			return ro, err
		}
		select {
		case <-ctx.Done():
			return ro, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// rolloutDiff lists each condition of the check the rollout does not meet. Until the
// controller has seen the rollout's current spec, its status is about an older one,
// so nothing is judged from it.
func rolloutDiff(ro *delivery.Rollout, r *spec.RolloutCheck) []string {
	if !ro.Observed {
		return []string{"the Argo Rollouts controller has not yet seen the rollout's current spec"}
	}
	var diff []string
	add := func(field, want, got string) {
		diff = append(diff, fmt.Sprintf("%s: expected %s, got %s", field, want, got))
	}
	if r.Phase != "" && ro.Phase != r.Phase {
		add("phase", r.Phase, orNone(ro.Phase))
	}
	if r.Step != nil {
		switch {
		case ro.Step == nil:
			add("step", r.Step.Op+" "+formatFloat(*r.Step.Value), "no step (not a canary with steps, or not started)")
		case !compare(float64(*ro.Step), r.Step.Op, *r.Step.Value):
			add("step", r.Step.Op+" "+formatFloat(*r.Step.Value), strconv.Itoa(*ro.Step))
		}
	}
	if r.Analysis != "" {
		got := "no analysis run"
		if a := ro.LatestAnalysis(); a != nil {
			got = a.Phase + " (" + a.Name + ")"
			if a.Phase == r.Analysis {
				got = ""
			}
		}
		if got != "" {
			add("analysis", r.Analysis, got)
		}
	}
	if r.Aborted != nil && ro.Aborted != *r.Aborted {
		add("aborted", strconv.FormatBool(*r.Aborted), strconv.FormatBool(ro.Aborted))
	}
	if r.Promoted != nil && ro.Promoted() != *r.Promoted {
		add("promoted", strconv.FormatBool(*r.Promoted), fmt.Sprintf("%t (stable %s, current %s)", ro.Promoted(), orNone(ro.StableHash), orNone(ro.CurrentHash)))
	}
	return diff
}

func rolloutExpected(r *spec.RolloutCheck) string {
	var parts []string
	if r.Phase != "" {
		parts = append(parts, "phase "+r.Phase)
	}
	if r.Step != nil && r.Step.Value != nil {
		parts = append(parts, "step "+r.Step.Op+" "+formatFloat(*r.Step.Value))
	}
	if r.Analysis != "" {
		parts = append(parts, "newest analysis "+r.Analysis)
	}
	if r.Aborted != nil {
		parts = append(parts, "aborted "+strconv.FormatBool(*r.Aborted))
	}
	if r.Promoted != nil {
		parts = append(parts, "promoted "+strconv.FormatBool(*r.Promoted))
	}
	return strings.Join(parts, ", ")
}

// describeRollout is the rollout's state in one line, for reports.
func describeRollout(ro *delivery.Rollout) string {
	parts := []string{"phase " + orNone(ro.Phase)}
	if ro.Step != nil {
		parts = append(parts, fmt.Sprintf("step %d of %d", *ro.Step, ro.Steps))
	}
	if ro.Aborted {
		parts = append(parts, "aborted")
	}
	if a := ro.LatestAnalysis(); a != nil {
		parts = append(parts, "analysis "+a.Name+" "+a.Phase)
	}
	if ro.Message != "" {
		parts = append(parts, strconv.Quote(ro.Message))
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
