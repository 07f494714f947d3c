package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
)

// Recorder receives what lab's own metrics count; internal/metrics' Exporter is one.
type Recorder interface {
	Injected(lab, fault string)
	Reverted(lab, fault string, ok bool)
	Recovered(lab, fault string, d time.Duration)
}

// Annotator marks a fault's start and end where people watch dashboards (Grafana).
type Annotator interface {
	Start(ctx context.Context, e *Entry) (id int64, err error)
	End(ctx context.Context, id int64, at time.Time) error
}

// Engine runs faults against labs. Its fields are its dependencies; the zero value of
// each optional one does nothing.
type Engine struct {
	Events      *event.Emitter
	Metrics     Recorder  // optional
	Annotations Annotator // optional
	// Confirm asks before a fault is injected; nil means yes (tests, --yes).
	Confirm func(question string) (bool, error)
	// Notes are said before the injection (such as why Grafana is not annotated).
	Notes []string
	Now   func() time.Time
	// RevertBackoff spaces the attempts of a failing revert.
	RevertBackoff wait.Backoff
}

// DefaultRevertBackoff tries a revert 6 times over about 30 seconds.
var DefaultRevertBackoff = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 6, Cap: 10 * time.Second}

// revertTimeout bounds a revert that runs after Ctrl-C, with a context of its own.
const revertTimeout = 2 * time.Minute

// MaxDuration is the longest a fault may last: a drill, not a lasting state.
const MaxDuration = 12 * time.Hour

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Engine) env(l *Lab) (*Env, error) { return newEnv(l, e.Events, e.now) }

// RunOptions say which fault to inject, how and for how long.
type RunOptions struct {
	Fault    string
	Params   Params
	Limits   Limits
	Duration time.Duration
	// DryRun plans only: nothing changes, the plan lists what would.
	DryRun bool
	// RecoveryTimeout bounds the wait for the workloads to be healthy after the fault;
	// 0 skips it.
	RecoveryTimeout time.Duration
	// Source is recorded in the journal: "run", or the gameday that started it.
	Source string
}

// RunResult is what `lab chaos run` did.
type RunResult struct {
	Plan   *Plan  `json:"plan"`
	Entry  *Entry `json:"entry,omitempty"`
	DryRun bool   `json:"dryRun"`
	// Recovery is the time from the end of the fault until the workloads it touched
	// were healthy again; nil when not measured.
	Recovery      *time.Duration `json:"recoveryNs,omitempty"`
	RecoveryError string         `json:"recoveryError,omitempty"`
}

// FaultInfo is one line of `lab chaos list`.
type FaultInfo struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary"`
	Flags   []string `json:"flags"`
	Support Support  `json:"support"`
}

// List says, for every fault, whether it can run on the lab and why not.
func (e *Engine) List(ctx context.Context, l *Lab) ([]FaultInfo, error) {
	admitErr := l.admit()
	var env *Env
	if admitErr == nil {
		var err error
		if env, err = e.env(l); err != nil {
			return nil, err
		}
	}
	out := make([]FaultInfo, 0, len(registry))
	for _, f := range registry {
		info := FaultInfo{Name: f.Name(), Summary: f.Summary()}
		for _, p := range f.Params() {
			info.Flags = append(info.Flags, FlagName(p))
		}
		if admitErr != nil {
			info.Support = unsupportedBy(admitErr.Error())
		} else {
			info.Support = f.Support(ctx, env)
		}
		out = append(out, info)
	}
	return out, nil
}

// Plan checks the lab, the fault and its parameters, and plans the injection from reads
// only. It is all a dry run does.
func (e *Engine) Plan(ctx context.Context, l *Lab, opts RunOptions) (*Plan, *Env, Fault, error) {
	if err := l.admit(); err != nil {
		return nil, nil, nil, err
	}
	f, err := Lookup(opts.Fault)
	if err != nil {
		return nil, nil, nil, errs.Wrap(errs.Invalid, err, "", "see `lab chaos list`")
	}
	if err := validateRun(f, opts); err != nil {
		return nil, nil, nil, err
	}
	env, err := e.env(l)
	if err != nil {
		return nil, nil, nil, err
	}
	support := f.Support(ctx, env)
	if support.Level == Unsupported {
		return nil, nil, nil, errs.Invalidf("see `lab chaos list` for what runs on this lab", "%s cannot run on lab %q: %s", f.Name(), l.Name, support.Reason)
	}
	seed := randomSeed()
	if opts.Params.Seed != nil {
		seed = *opts.Params.Seed
	}
	plan, err := f.Plan(ctx, env, opts.Params, opts.Limits, newRand(seed))
	if err != nil {
		return nil, nil, nil, clusterError(err)
	}
	plan.Lab, plan.Support, plan.Params = l.Name, support, opts.Params
	if slices.Contains(f.Params(), "seed") {
		plan.Seed = &seed
	}
	if err := e.guardActive(ctx, env, l, plan); err != nil {
		return nil, nil, nil, err
	}
	return plan, env, f, nil
}

// validateRun checks parameters, limits and duration, every problem at once.
func validateRun(f Fault, opts RunOptions) error {
	problems := f.Validate(opts.Params)
	problems = append(problems, opts.Limits.validate()...)
	if opts.Duration < 0 || opts.Duration > MaxDuration {
		problems.add("duration", "must be between 0s and %s, got %s", MaxDuration, opts.Duration)
	}
	if len(problems) == 0 {
		return nil
	}
	return errs.Wrap(errs.Invalid, problems, "invalid "+f.Name()+" parameters", "see `lab chaos run "+f.Name()+" --help` and `lab chaos list`")
}

// guardActive refuses targets another open entry of this lab is acting on: two faults
// on one object would each restore the other's damage as the "original".
func (e *Engine) guardActive(ctx context.Context, env *Env, l *Lab, plan *Plan) error {
	j := Journal{Dir: l.JournalDir}
	for _, ref := range plan.Targets {
		id, err := activeFaultOn(ctx, env, ref)
		if err != nil || id == "" {
			continue // reading failed: the injection will say so
		}
		if other, err := j.Load(id); err == nil && other.Open() {
			return errs.Invalidf("revert it first: `lab chaos revert "+id+"`",
				"%s is already under fault %s (%s)", ref, id, other.Fault)
		}
	}
	return nil
}

// clusterError keeps typed errors and calls the rest what they are: the cluster did
// not answer as expected.
func clusterError(err error) error {
	var typed *errs.Error
	if errors.As(err, &typed) {
		return err
	}
	if apierrors.IsForbidden(err) {
		return errs.Wrap(errs.Invalid, err, "the lab's credentials may not do this", "")
	}
	return errs.Wrap(errs.Unavailable, err, "the cluster did not answer as expected", "check it with `lab status`")
}

func randomSeed() int64 { return mrand.Int64N(1_000_000_000) }

// Run plans, asks, journals, injects, holds for the duration (Ctrl-C ends it early),
// reverts and measures the recovery.
func (e *Engine) Run(ctx context.Context, l *Lab, opts RunOptions) (*RunResult, error) {
	plan, env, f, err := e.Plan(ctx, l, opts)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Plan: plan, DryRun: opts.DryRun}
	if opts.DryRun {
		return res, nil
	}
	e.announce(plan)
	if err := e.confirm(plan); err != nil {
		return res, err
	}
	entry, err := e.Start(ctx, env, f, plan, opts)
	res.Entry = entry
	if err != nil {
		return res, err
	}
	recovery := e.watchRecovery(ctx, env, f, entry, opts.RecoveryTimeout)
	ended := e.hold(ctx, env, f, entry, opts)
	switch ended {
	case revertedElsewhere:
		// Another process (`lab chaos revert`, `lab down`) undid it: reverting again
		// would act on a cluster that may be going away.
		if onDisk, err := (Journal{Dir: l.JournalDir}).Load(entry.ID); err == nil {
			res.Entry = onDisk
		}
		return res, nil
	case labDeleted:
		return res, labDeletedError(l, entry)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
	defer cancel()
	if err := e.Stop(stopCtx, env, f, entry); err != nil {
		return res, err
	}
	if ended == interrupted {
		return res, errs.New(errs.Interrupted, "interrupted: fault "+entry.ID+" was reverted", "")
	}
	res.Recovery, res.RecoveryError = recovery.wait(ctx, e, env, entry, opts.RecoveryTimeout)
	return res, nil
}

// announce says, before asking, what the user must not miss.
func (e *Engine) announce(plan *Plan) {
	ev := e.Events
	for _, n := range e.Notes {
		ev.Info(n)
	}
	if plan.Support.Level == Limited {
		ev.Warn(plan.Fault + " is limited on this lab: " + plan.Support.Reason)
	}
	for _, w := range plan.Warnings {
		ev.Warn(w)
	}
	if plan.Seed != nil {
		ev.Info(fmt.Sprintf("seed %d: replay the same choice with --seed %d", *plan.Seed, *plan.Seed))
	}
}

func (e *Engine) confirm(plan *Plan) error {
	if e.Confirm == nil {
		return nil
	}
	ok, err := e.Confirm(fmt.Sprintf("Inject %s into lab %s: %s?", plan.Fault, plan.Lab, plan.Summary))
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "cancelled: nothing was changed", "")
	}
	return nil
}

// Start writes the journal entry, then injects. A failed or interrupted injection is
// reverted before Start returns, since part of it may have happened.
func (e *Engine) Start(ctx context.Context, env *Env, f Fault, plan *Plan, opts RunOptions) (*Entry, error) {
	entry, err := newEntry(plan, opts, e.now())
	if err != nil {
		return nil, err
	}
	j := Journal{Dir: env.Lab.JournalDir}
	if err := j.Save(entry); err != nil {
		return nil, err
	}
	err = e.Events.Step(ctx, "Injecting "+entry.ID+": "+plan.Summary, func(ctx context.Context) error {
		return e.inject(ctx, env, f, entry)
	})
	if err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
		defer cancel()
		if revertErr := e.Stop(stopCtx, env, f, entry); revertErr != nil {
			return entry, errors.Join(clusterError(err), revertErr)
		}
		if ctx.Err() != nil {
			return entry, &errs.Error{Kind: errs.Interrupted, Msg: "interrupted while injecting: what was done is reverted", Err: err}
		}
		return entry, clusterError(err)
	}
	if e.Metrics != nil {
		e.Metrics.Injected(env.Lab.Name, f.Name())
	}
	if e.annotateStart(ctx, entry) {
		e.save(ctx, env, entry)
	}
	return entry, nil
}

// inject marks the targets, breaks them and records the entry as active.
func (e *Engine) inject(ctx context.Context, env *Env, f Fault, entry *Entry) error {
	expires := e.now().Add(entry.Duration)
	entry.ExpiresAt = &expires
	for _, ref := range entry.Targets {
		if err := mark(ctx, env, ref, entry); err != nil {
			return err
		}
	}
	if err := f.Inject(ctx, env, entry); err != nil {
		return err
	}
	injected := e.now()
	expires = injected.Add(entry.Duration)
	entry.Phase, entry.InjectedAt, entry.ExpiresAt = Active, &injected, &expires
	_, err := e.save(ctx, env, entry)
	return err
}

// save writes the run's copy of the entry, unless another process reverted it
// meanwhile: that revert wins, and reverted reports it.
func (e *Engine) save(ctx context.Context, env *Env, entry *Entry) (reverted bool, err error) {
	j := Journal{Dir: env.Lab.JournalDir}
	_, err = j.Update(ctx, entry.ID, func(onDisk *Entry) {
		if onDisk.Phase == Reverted {
			reverted = true
			return
		}
		*onDisk = *entry
	})
	return reverted, err
}

// holdEnd is why hold returned.
type holdEnd int

const (
	expired           holdEnd = iota // the duration is over: revert it now
	interrupted                      // Ctrl-C: revert it now
	revertedElsewhere                // another lab process reverted it
	labDeleted                       // `lab down` deleted the lab and its journal
)

// hold waits out the duration, striking again every interval for a repeater, and ends
// early on Ctrl-C, when another process reverted the entry, or when the lab was deleted.
func (e *Engine) hold(ctx context.Context, env *Env, f Fault, entry *Entry, opts RunOptions) holdEnd {
	if entry.Duration == 0 {
		return expired
	}
	ev := e.Events
	ev.Info(fmt.Sprintf("holding %s for %s; Ctrl-C reverts it at once", entry.ID, entry.Duration))
	timer := time.NewTimer(entry.Duration)
	defer timer.Stop()
	check := time.NewTicker(time.Second)
	defer check.Stop()
	var strike <-chan time.Time
	rep, isRepeater := f.(repeater)
	if isRepeater && opts.Params.Interval > 0 {
		t := time.NewTicker(opts.Params.Interval)
		defer t.Stop()
		strike = t.C
	}
	rng := newRand(derefSeed(entry.Seed) + 1) // the first choice used the seed itself
	for {
		select {
		case <-ctx.Done():
			ev.Warn("interrupted: reverting " + entry.ID + " now")
			return interrupted
		case <-timer.C:
			return expired
		case <-check.C:
			if end, ok := e.endedElsewhere(env, entry); ok {
				return end
			}
		case <-strike:
			err := ev.Step(ctx, "Striking again: "+entry.ID, func(ctx context.Context) error { return rep.Repeat(ctx, env, entry, rng) })
			if err == nil {
				e.save(ctx, env, entry)
			}
		}
	}
}

// endedElsewhere reports whether another process ended the held entry: reverted it,
// or deleted its lab (the journal's directory is gone).
func (e *Engine) endedElsewhere(env *Env, entry *Entry) (holdEnd, bool) {
	j := Journal{Dir: env.Lab.JournalDir}
	if !j.Exists() {
		return labDeleted, true
	}
	onDisk, err := j.Load(entry.ID)
	if err == nil && onDisk.Phase == Reverted {
		e.Events.Info(entry.ID + " was reverted by another lab process")
		return revertedElsewhere, true
	}
	return expired, false
}

// labDeletedError says that the lab of a fault was deleted while the fault was held.
// Nothing is retried and no state is written: the lab's journal is gone with it.
func labDeletedError(l *Lab, entry *Entry) error {
	what := "the fault went with its cluster"
	if l.Adopted {
		what = "if it was still active, it may remain on the adopted cluster (context " + l.Context + "): check " + joinRefs(entry.Targets)
	}
	return errs.New(errs.Unavailable, fmt.Sprintf("lab %q was deleted while fault %s was held; %s", l.Name, entry.ID, what), "")
}

func derefSeed(s *int64) int64 {
	if s == nil {
		return 0
	}
	return *s
}

// Stop reverts an entry with retries and records the outcome. An entry whose lab was
// deleted meanwhile is not retried: nothing is left to revert it with.
func (e *Engine) Stop(ctx context.Context, env *Env, f Fault, entry *Entry) error {
	if !(Journal{Dir: env.Lab.JournalDir}).Exists() {
		err := labDeletedError(env.Lab, entry)
		e.Events.Skip("Reverting "+entry.ID, err.Error())
		return err
	}
	err := e.Events.Step(ctx, "Reverting "+entry.ID, func(ctx context.Context) error {
		return e.revert(ctx, env, f, entry)
	})
	if e.Metrics != nil && entry.InjectedAt != nil {
		e.Metrics.Reverted(env.Lab.Name, f.Name(), err == nil)
	}
	if err == nil {
		e.annotateEnd(ctx, entry)
	}
	return err
}

// revert retries the fault's revert and the removal of the annotations with backoff;
// the entry is marked reverted only when both succeeded, and keeps the last error
// otherwise, so `lab chaos status` shows why it is still active.
func (e *Engine) revert(ctx context.Context, env *Env, f Fault, entry *Entry) error {
	backoff := e.RevertBackoff
	if backoff.Steps == 0 {
		backoff = DefaultRevertBackoff
	}
	j := Journal{Dir: env.Lab.JournalDir}
	var last error
	attempt := func(ctx context.Context) (bool, error) {
		last = revertOnce(ctx, env, f, entry)
		if last == nil {
			return true, nil
		}
		if !j.Exists() {
			return false, labDeletedError(env.Lab, entry)
		}
		entry.RevertAttempts++
		entry.RevertError = last.Error()
		j.Update(ctx, entry.ID, func(onDisk *Entry) {
			onDisk.RevertAttempts, onDisk.RevertError = entry.RevertAttempts, entry.RevertError
		})
		e.Events.Warn(fmt.Sprintf("revert of %s failed (attempt %d): %v", entry.ID, entry.RevertAttempts, last))
		return false, nil
	}
	if err := wait.ExponentialBackoffWithContext(ctx, backoff, attempt); err != nil {
		if !j.Exists() {
			return labDeletedError(env.Lab, entry) // no revert to suggest
		}
		if last == nil {
			last = err
		}
		return errs.Wrap(errs.Unavailable, last, fmt.Sprintf("reverting %s failed after %d attempts; the fault is still active", entry.ID, entry.RevertAttempts),
			"fix what the error says, then run `lab chaos revert "+entry.ID+"` (`lab chaos status` lists it)")
	}
	if fg, ok := f.(forgetter); ok {
		if err := fg.Forget(entry); err != nil {
			return err
		}
	}
	reverted := e.now()
	entry.Phase, entry.RevertedAt, entry.RevertError = Reverted, &reverted, ""
	_, err := j.Update(ctx, entry.ID, func(onDisk *Entry) { *onDisk = *entry })
	return err
}

func revertOnce(ctx context.Context, env *Env, f Fault, entry *Entry) error {
	if err := f.Revert(ctx, env, entry); err != nil {
		return err
	}
	for _, ref := range entry.Targets {
		if err := unmark(ctx, env, ref, entry.ID); err != nil {
			return err
		}
	}
	return nil
}

// annotateStart posts the start annotation, reporting whether the entry changed.
func (e *Engine) annotateStart(ctx context.Context, entry *Entry) bool {
	if e.Annotations == nil {
		return false
	}
	id, err := e.Annotations.Start(ctx, entry)
	if err != nil {
		e.Events.Warn("Grafana annotation not posted: " + err.Error())
		return false
	}
	entry.GrafanaAnnotation = id
	return true
}

func (e *Engine) annotateEnd(ctx context.Context, entry *Entry) {
	if e.Annotations == nil || entry.GrafanaAnnotation == 0 {
		return
	}
	if err := e.Annotations.End(ctx, entry.GrafanaAnnotation, e.now()); err != nil {
		e.Events.Warn("Grafana annotation not closed: " + err.Error())
	}
}

// newEntry is the journal entry of a plan, before anything is touched.
func newEntry(plan *Plan, opts RunOptions, now time.Time) (*Entry, error) {
	id, err := newID(plan.Fault)
	if err != nil {
		return nil, err
	}
	source := opts.Source
	if source == "" {
		source = "run"
	}
	entry := &Entry{
		ID: id, Lab: plan.Lab, Fault: plan.Fault, Summary: plan.Summary, Params: plan.Params, Seed: plan.Seed,
		Phase: Pending, Changes: plan.Changes, Targets: plan.Targets, Watch: plan.Watch,
		Source: source, Duration: opts.Duration, CreatedAt: now.UTC(), Process: self(),
	}
	return entry, setData(entry, plan.data)
}

// newID is the fault's name and 6 random hex digits: short enough to type.
func newID(fault string) (string, error) {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fault + "-" + hex.EncodeToString(b), nil
}

// recoveryWatch measures the time until the watched workloads are healthy: from the
// injection for an instant fault (watched while the fault is held), else from the
// revert.
type recoveryWatch struct {
	done chan recoveryResult // nil: measured after the revert
}

type recoveryResult struct {
	d   time.Duration
	err error
}

func (e *Engine) watchRecovery(ctx context.Context, env *Env, f Fault, entry *Entry, timeout time.Duration) recoveryWatch {
	inst, ok := f.(instant)
	if timeout <= 0 || len(entry.Watch) == 0 || !ok || !inst.Instant(entry) {
		return recoveryWatch{}
	}
	done := make(chan recoveryResult, 1)
	from := *entry.InjectedAt
	go func() {
		err := waitHealthy(ctx, env, entry.Watch, timeout)
		done <- recoveryResult{d: e.now().Sub(from), err: err}
	}()
	return recoveryWatch{done: done}
}

// wait returns the recovery time, or why there is none.
func (w recoveryWatch) wait(ctx context.Context, e *Engine, env *Env, entry *Entry, timeout time.Duration) (*time.Duration, string) {
	if timeout <= 0 || len(entry.Watch) == 0 {
		return nil, ""
	}
	var r recoveryResult
	if w.done != nil {
		r = <-w.done
	} else {
		from := *entry.RevertedAt
		r.err = e.Events.Step(ctx, "Waiting for "+joinRefs(entry.Watch)+" to recover", func(ctx context.Context) error {
			return waitHealthy(ctx, env, entry.Watch, timeout)
		})
		r.d = e.now().Sub(from)
	}
	if r.err != nil {
		return nil, r.err.Error()
	}
	if e.Metrics != nil {
		e.Metrics.Recovered(env.Lab.Name, entry.Fault, r.d)
	}
	return &r.d, ""
}

func joinRefs(refs []ObjectRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
