package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cloudnativelab/lab/internal/errs"
)

// podKill deletes pods chosen at random (from a seed) among those a selector matches.
type podKill struct{}

func (podKill) Name() string { return "pod-kill" }
func (podKill) Summary() string {
	return "delete pods chosen by namespace and selector (count or percent), once or every interval"
}
func (podKill) Params() []string {
	return []string{"namespace", "selector", "count", "percent", "gracePeriod", "interval", "seed"}
}

func (f podKill) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkNamespace(p, &errs)
	checkSelector(p, &errs)
	checkHowMany(p, &errs)
	checkGracePeriod(p, &errs)
	if p.Interval < 0 {
		errs.add("interval", "must not be negative, got %s", p.Interval)
	}
	return errs
}

func (podKill) Support(context.Context, *Env) Support { return supported() }

// podRef is one victim: the UID makes the deletion hit this pod and not a replacement
// with the same name (a StatefulSet's).
type podRef struct {
	Name string    `json:"name"`
	UID  types.UID `json:"uid"`
	Node string    `json:"node,omitempty"`
	// controller is the pod's controller, to name its owner without reading it again.
	controller *metav1.OwnerReference
}

type podKillRound struct {
	At      time.Time `json:"at"`
	Victims []podRef  `json:"victims"`
}

type podKillData struct {
	Namespace          string         `json:"namespace"`
	Selector           string         `json:"selector"`
	Count              int            `json:"count,omitempty"`
	Percent            int            `json:"percent,omitempty"`
	IncludeSystem      bool           `json:"includeSystem,omitempty"`
	GracePeriodSeconds *int64         `json:"gracePeriodSeconds,omitempty"`
	Interval           time.Duration  `json:"intervalNs,omitempty"`
	Planned            []podRef       `json:"planned"`
	Rounds             []podKillRound `json:"rounds,omitempty"`
}

func (f podKill) Plan(ctx context.Context, env *Env, p Params, lim Limits, rng *rand.Rand) (*Plan, error) {
	ns := namespaceOr(p)
	if err := guardNamespace(ctx, env, ns, lim); err != nil {
		return nil, err
	}
	d := &podKillData{Namespace: ns, Selector: p.Selector, Count: p.Count, Percent: p.Percent,
		IncludeSystem: lim.IncludeSystem, Interval: p.Interval}
	if p.GracePeriod != nil {
		secs := int64(p.GracePeriod.Round(time.Second) / time.Second)
		d.GracePeriodSeconds = &secs
	}
	candidates, inNamespace, err := d.candidates(ctx, env)
	if err != nil {
		return nil, err
	}
	n, err := d.howMany(len(candidates))
	if err != nil {
		return nil, dependsOnState(atParam("selector", err))
	}
	if err := guardBlastRadius(f.Name(), "delete", n, inNamespace, "in namespace "+ns, lim); err != nil {
		return nil, atParam(howManyParam(p), err)
	}
	victims := choose(rng, candidates, n)
	d.Planned = victims
	plan := &Plan{Fault: f.Name(), Summary: d.summary(n), data: d}
	return plan, f.describe(ctx, env, plan, d, victims)
}

// describe fills the plan's changes, targets and warnings from the victims.
func (podKill) describe(ctx context.Context, env *Env, plan *Plan, d *podKillData, victims []podRef) error {
	rsOwners := map[string]ObjectRef{}
	for _, v := range victims {
		owner, ok, err := ownerOf(ctx, env, d.Namespace, v.controller, rsOwners)
		if err != nil {
			return err
		}
		if !ok {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("pod %s has no controller: nothing will replace it", v.Name))
		} else if !slices.Contains(plan.Targets, owner) {
			plan.Targets = append(plan.Targets, owner)
			plan.Watch = append(plan.Watch, owner)
			plan.Changes = append(plan.Changes, Change{Action: "annotate", ObjectRef: owner, Detail: "marked while the fault lasts"})
		}
		detail := "on node " + v.Node
		if d.GracePeriodSeconds != nil {
			detail += fmt.Sprintf(", grace period %ds", *d.GracePeriodSeconds)
		}
		plan.Changes = append(plan.Changes, Change{Action: "delete", ObjectRef: ObjectRef{Kind: "Pod", Namespace: d.Namespace, Name: v.Name}, Detail: detail})
	}
	if d.Interval > 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("kills again every %s while the fault lasts, choosing among the pods then running", d.Interval))
	}
	return nil
}

func (d *podKillData) summary(n int) string {
	sel := d.Selector
	if sel == "" {
		sel = "any pod"
	}
	s := fmt.Sprintf("delete %d pod(s) matching %s in namespace %s", n, sel, d.Namespace)
	if d.Interval > 0 {
		s += fmt.Sprintf(", every %s", d.Interval)
	}
	return s
}

// candidates are the live pods the selector matches, sorted by name so that a seed
// chooses the same ones on the same cluster; inNamespace counts the namespace's live
// pods, for the blast-radius percentage.
func (d *podKillData) candidates(ctx context.Context, env *Env) (candidates []podRef, inNamespace int, err error) {
	all, err := env.Client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("listing pods in %s: %w", d.Namespace, err)
	}
	selector, err := parseSelector(d.Selector)
	if err != nil {
		return nil, 0, err
	}
	for i := range all.Items {
		p := &all.Items[i]
		if !live(p) {
			continue
		}
		inNamespace++
		if !selector.Matches(labelSet(p.Labels)) || p.Labels[LabelID] != "" || (isSystemPod(p) && !d.IncludeSystem) {
			continue
		}
		candidates = append(candidates, podRef{Name: p.Name, UID: p.UID, Node: p.Spec.NodeName, controller: metav1.GetControllerOf(p)})
	}
	slices.SortFunc(candidates, func(a, b podRef) int { return strings.Compare(a.Name, b.Name) })
	return candidates, inNamespace, nil
}

// howManyParam is the parameter that says how many pods: percent when given, else count.
func howManyParam(p Params) string {
	if p.given("percent") {
		return "percent"
	}
	return "count"
}

func (d *podKillData) howMany(available int) (int, error) {
	what := "pods"
	if d.Selector != "" {
		what = fmt.Sprintf("pods matching %q", d.Selector)
	}
	if available == 0 {
		return 0, errs.Invalidf("check --namespace and --selector with `kubectl get pods -n "+d.Namespace+" -l '"+d.Selector+"'`",
			"no running %s in namespace %s", what, d.Namespace)
	}
	n := 1
	switch {
	case d.Count > 0:
		n = d.Count
	case d.Percent > 0:
		n = max(1, (d.Percent*available+99)/100)
	}
	if n > available {
		return 0, errs.Invalidf("lower --count", "--count is %d, but only %d %s are running in namespace %s", n, available, what, d.Namespace)
	}
	return n, nil
}

// choose picks n of the candidates with rng.
func choose(rng *rand.Rand, candidates []podRef, n int) []podRef {
	perm := rng.Perm(len(candidates))
	out := make([]podRef, n)
	for i := range n {
		out[i] = candidates[perm[i]]
	}
	return out
}

func (podKill) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[podKillData](e)
	if err != nil {
		return err
	}
	if err := d.kill(ctx, env, d.Planned); err != nil {
		return err
	}
	return setData(e, d)
}

// Repeat kills again, choosing among the pods running now.
func (podKill) Repeat(ctx context.Context, env *Env, e *Entry, rng *rand.Rand) error {
	d, err := decodeData[podKillData](e)
	if err != nil {
		return err
	}
	candidates, _, err := d.candidates(ctx, env)
	if err != nil {
		return err
	}
	n, err := d.howMany(len(candidates))
	if err != nil {
		return err
	}
	if err := d.kill(ctx, env, choose(rng, candidates, n)); err != nil {
		return err
	}
	return setData(e, d)
}

// kill deletes the victims all at once and waits until they are gone, recording the
// round first so that the journal says who was killed even if the wait is interrupted.
func (d *podKillData) kill(ctx context.Context, env *Env, victims []podRef) error {
	d.Rounds = append(d.Rounds, podKillRound{At: env.Now(), Victims: victims})
	err := parallel(len(victims), 32, func(i int) error {
		v := victims[i]
		opts := metav1.DeleteOptions{GracePeriodSeconds: d.GracePeriodSeconds, Preconditions: &metav1.Preconditions{UID: &v.UID}}
		err := env.Client.CoreV1().Pods(d.Namespace).Delete(ctx, v.Name, opts)
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // gone already, or replaced by a pod of the same name
		}
		if err != nil {
			return fmt.Errorf("deleting pod %s: %w", v.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.waitGone(ctx, env, victims)
}

// waitGone polls until no victim exists any more (their grace period over), so that
// "injected" means the pods are really deleted.
func (d *podKillData) waitGone(ctx context.Context, env *Env, victims []podRef) error {
	timeout := time.Minute
	if d.GracePeriodSeconds != nil {
		timeout += time.Duration(*d.GracePeriodSeconds) * time.Second
	}
	uids := map[types.UID]bool{}
	for _, v := range victims {
		uids[v.UID] = true
	}
	left := 0
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := env.Client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: d.Selector})
		if err != nil {
			return false, nil // a transient error: try again
		}
		left = 0
		for _, p := range pods.Items {
			if uids[p.UID] {
				left++
			}
		}
		return left == 0, nil
	})
	if err != nil && ctx.Err() == nil {
		env.Events.Warn(fmt.Sprintf("%d of the deleted pods are still terminating after %s", left, timeout))
		return nil
	}
	return err
}

// Revert has nothing to undo: the pods' controllers replace them; the engine removes the
// annotations of their owners.
func (podKill) Revert(context.Context, *Env, *Entry) error { return nil }

// Instant: a single kill is over once the pods are gone.
func (podKill) Instant(e *Entry) bool {
	d, err := decodeData[podKillData](e)
	return err == nil && d.Interval == 0
}

// parallel runs fn for 0..n-1 with at most limit at once and joins the errors.
func parallel(n, limit int, fn func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, limit)
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
