package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

// preflight plans every fault of the timeline before anything is touched, against the
// cluster as it is: whether the fault runs on this lab, its targets, and the guard rails
// (protected namespaces, the blast radius, the capacity caps, one fault per object).
// Every refusal is reported at once, each at its fault's line of the file, and the drill
// does not start: a refusal halfway through would leave the first faults injected for
// nothing. Refusals that depend on what the cluster holds at the fault's time (no pod
// matches yet) are left to that time: an earlier fault of the drill may change them.
func (d *drill) preflight(ctx context.Context) error {
	var problems spec.ErrorList
	var planned []plannedFault
	for i := range d.spec.Timeline {
		path := fmt.Sprintf("spec.timeline[%d]", i)
		plan, _, f, err := d.engine.Plan(ctx, d.lab, d.runOptions(i))
		var later *stateError
		switch {
		case err == nil:
			planned = append(planned, plannedFault{index: i, plan: plan, random: slices.Contains(f.Params(), "seed")})
		case errors.As(err, &later):
		case errs.KindOf(err) != errs.Invalid:
			return err // the cluster did not answer: nothing to place on a line
		default:
			problems = append(problems, d.problems(path, err)...)
		}
	}
	problems = append(problems, d.overlaps(planned)...)
	if len(problems) == 0 {
		return nil
	}
	return errs.Wrap(errs.Invalid, problems, "",
		"nothing was injected: every fault of a drill is checked before the first one starts; fix the file (or the lab) and run it again")
}

// problems places a refusal on the line of the parameter it is about, or of its fault.
func (d *drill) problems(path string, err error) spec.ErrorList {
	var params ParamErrors
	if errors.As(err, &params) {
		out := make(spec.ErrorList, len(params))
		for i, p := range params {
			out[i] = d.gameday.Problem(path+"."+p.Param, p.text(func(s string) string { return s }))
		}
		return out
	}
	var pe *paramError
	if errors.As(err, &pe) {
		path += "." + pe.param
	}
	msg := err.Error()
	if hint := errs.HintOf(err); hint != "" {
		msg += " (" + hint + ")"
	}
	return spec.ErrorList{d.gameday.Problem(path, msg)}
}

// plannedFault is a timeline fault the preflight planned.
type plannedFault struct {
	index int
	plan  *Plan
	// random is a fault that chooses its victims at random: its targets at its time may
	// differ from those planned now.
	random bool
}

// overlaps refuses two faults acting on one object at the same time: the second would
// be refused when it comes (each would restore the other's damage as the original),
// with the first already injected. Faults start in the order of the timeline, each at
// its offset or when the one before it has started, and hold for their duration;
// faults that choose at random are checked when they come.
func (d *drill) overlaps(planned []plannedFault) spec.ErrorList {
	starts := make([]time.Duration, len(d.spec.Timeline))
	for i, tf := range d.spec.Timeline {
		starts[i] = tf.At
		if i > 0 {
			starts[i] = max(tf.At, starts[i-1])
		}
	}
	var out spec.ErrorList
	for b, later := range planned {
		if later.random {
			continue
		}
		for _, earlier := range planned[:b] {
			if earlier.random {
				continue
			}
			i, j := earlier.index, later.index
			end := starts[i] + d.spec.Timeline[i].Duration
			if starts[j] != starts[i] && starts[j] >= end {
				continue
			}
			if ref, ok := sharedTarget(earlier.plan.Targets, later.plan.Targets); ok {
				first := d.spec.Timeline[i]
				out = append(out, d.gameday.Problem(fmt.Sprintf("spec.timeline[%d]", j), fmt.Sprintf(
					"%s would act on %s while fault %s (spec.timeline[%d], from %s for %s) still holds it: two faults on one object would each restore the other's damage; start it at %s or later",
					d.spec.Timeline[j].ID, ref, first.ID, i, starts[i], first.Duration, end)))
				break
			}
		}
	}
	return out
}

// sharedTarget is an object both lists name.
func sharedTarget(a, b []ObjectRef) (ObjectRef, bool) {
	for _, r := range b {
		if slices.Contains(a, r) {
			return r, true
		}
	}
	return ObjectRef{}, false
}
