package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
)

// GamedayOptions say which drill to run.
type GamedayOptions struct {
	Gameday *spec.Gameday
	// File is where the drill came from, for the journal and the report.
	File string
	// Seed overrides the file's seed.
	Seed *int64
}

// Outcomes of a gameday.
const (
	// GamedayPassed: the steady state held before, and came back after every fault.
	GamedayPassed = "passed"
	// GamedayHypothesisFailed: the steady state did not hold before: nothing injected.
	GamedayHypothesisFailed = "hypothesis-failed"
	// GamedayAborted: an abort condition held; every fault was reverted at once.
	GamedayAborted = "aborted"
	// GamedayNotRecovered: the steady state did not come back within recovery.timeout.
	GamedayNotRecovered = "not-recovered"
	// GamedayInterrupted: Ctrl-C; every fault was reverted at once.
	GamedayInterrupted = "interrupted"
	// GamedayFailed: a fault could not be injected; the others were reverted.
	GamedayFailed = "failed"
)

// GamedayReport is what happened in a drill, for people (table, markdown) and CI
// (JSON, JUnit).
type GamedayReport struct {
	Name    string `json:"name"`
	Lab     string `json:"lab"`
	File    string `json:"file"`
	Seed    int64  `json:"seed"`
	Outcome string `json:"outcome"`
	// Reason says why the drill did not pass.
	Reason    string        `json:"reason,omitempty"`
	StartedAt time.Time     `json:"startedAt"`
	Duration  time.Duration `json:"durationNs"`
	// Before is the steady state verified before the first fault; After the last probe
	// of the recovery.
	Before *grade.Report  `json:"before"`
	After  *grade.Report  `json:"after,omitempty"`
	Faults []FaultOutcome `json:"faults"`
	// Recovered is true when the steady state held again after the last fault;
	// RecoveredAfter is the time from the last fault's end until it did.
	Recovered      bool           `json:"recovered"`
	RecoveredAfter *time.Duration `json:"recoveredAfterNs,omitempty"`
	Timeline       []Moment       `json:"timeline"`
}

// FaultOutcome is one timeline fault: when it ran, who it hit, and the people's and the
// system's response to it.
type FaultOutcome struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Entry   string `json:"entry,omitempty"` // journal entry id
	Summary string `json:"summary,omitempty"`
	Seed    *int64 `json:"seed,omitempty"`
	// Victims are the objects it deleted or evicted (pod-kill, node-drain).
	Victims []string `json:"victims,omitempty"`
	// At, Injected and Reverted are offsets from the start of the timeline; Injected is
	// when the injection began.
	At       time.Duration  `json:"atNs"`
	Injected *time.Duration `json:"injectedNs,omitempty"`
	Reverted *time.Duration `json:"revertedNs,omitempty"`
	// TimeToDetect runs from the injection to the first failing steady-state probe or
	// passing detect check, named by DetectedBy.
	TimeToDetect *time.Duration `json:"timeToDetectNs,omitempty"`
	DetectedBy   string         `json:"detectedBy,omitempty"`
	// TimeToRecover runs from the injection to the first probe, after detection, at
	// which the steady state held again.
	TimeToRecover *time.Duration `json:"timeToRecoverNs,omitempty"`
	// Skipped is true for a fault the drill ended before; Error says why one failed.
	Skipped bool   `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Moment is one line of the report's timeline.
type Moment struct {
	At    time.Duration `json:"atNs"`
	Event string        `json:"event"` // inject, revert, probe-fail, probe-pass, detect, recover, abort, ...
	Text  string        `json:"text"`
}

// Gameday runs a drill: it verifies the steady state, injects the timeline's faults at
// their offsets while probing the steady state, aborts (reverting every fault at once)
// when an abort condition holds, reverts each fault after its duration, and verifies
// the recovery. The report is returned with an error when the drill did not pass.
func (e *Engine) Gameday(ctx context.Context, l *Lab, opts GamedayOptions) (*GamedayReport, error) {
	if err := l.admit(); err != nil {
		return nil, err
	}
	env, err := e.env(l)
	if err != nil {
		return nil, err
	}
	g := opts.Gameday
	d := &drill{engine: e, env: env, lab: l, gameday: g, spec: &g.Spec, file: opts.File, report: &GamedayReport{
		Name: g.Metadata.Name, Lab: l.Name, File: opts.File, Seed: gamedaySeed(g, opts.Seed), Faults: []FaultOutcome{}, Timeline: []Moment{},
	}}
	if err := d.preflight(ctx); err != nil {
		return nil, err
	}
	targets, closeTargets, err := grade.Connect(ctx, grade.ConnectOptions{Kubeconfig: l.Kubeconfig, Simulated: l.Simulated}, d.allChecks())
	if err != nil {
		return nil, err
	}
	defer closeTargets()
	d.targets = targets
	return d.run(ctx)
}

func gamedaySeed(g *spec.Gameday, override *int64) int64 {
	switch {
	case override != nil:
		return *override
	case g.Spec.Seed != nil:
		return *g.Spec.Seed
	default:
		return randomSeed()
	}
}

// drill is one gameday in progress.
type drill struct {
	engine  *Engine
	env     *Env
	lab     *Lab
	gameday *spec.Gameday
	spec    *spec.GamedaySpec
	file    string
	targets *grade.Targets
	report  *GamedayReport
	start   time.Time

	// active are the injected faults not reverted yet, by index in the timeline.
	active map[int]*activeFault
	// failingSince is when the current streak of failing probes began (zero: passing).
	failingSince time.Time
	lastPassing  *bool
}

type activeFault struct {
	fault Fault
	entry *Entry
	until time.Time
}

func (d *drill) allChecks() []spec.Check {
	all := slices.Clone(d.spec.SteadyState.Checks)
	all = append(all, d.spec.Detect...)
	return append(all, d.spec.Abort.When...)
}

func (d *drill) run(ctx context.Context) (*GamedayReport, error) {
	ev := d.engine.Events
	ev.Info(fmt.Sprintf("gameday %s on lab %s, seed %d (--seed %d replays its choices)", d.report.Name, d.lab.Name, d.report.Seed, d.report.Seed))
	began := d.engine.now()
	d.start = began
	d.report.StartedAt = began.UTC()
	defer func() { d.report.Duration = d.engine.now().Sub(began) }()
	for _, tf := range d.spec.Timeline {
		d.report.Faults = append(d.report.Faults, FaultOutcome{ID: tf.ID, Type: tf.Type, At: tf.At})
	}
	if err := d.verifyBefore(ctx); err != nil {
		return d.report, err
	}
	if err := d.engine.confirmGameday(d); err != nil {
		return d.report, err
	}
	d.start = d.engine.now() // offsets count from the start of the timeline
	d.active = map[int]*activeFault{}
	stopped := d.runTimeline(ctx)
	d.recover(ctx, stopped)
	return d.report, d.verdict(ctx)
}

// verifyBefore polls the steady state with each check's own timeout: the hypothesis
// must hold before anything is broken.
func (d *drill) verifyBefore(ctx context.Context) error {
	grader := &grade.Grader{Targets: d.targets, Events: d.engine.Events}
	var rep *grade.Report
	d.engine.Events.Step(ctx, "Verifying the steady state before the drill", func(ctx context.Context) error {
		rep = grader.Run(ctx, "steady state before", d.spec.SteadyState.Checks)
		return rep.Err()
	})
	d.report.Before = rep
	if err := rep.Err(); err != nil {
		d.report.Outcome = GamedayHypothesisFailed
		d.report.Reason = "the steady state does not hold before the drill, so no fault was injected: " + failingChecks(rep)
		return errs.Wrap(errs.KindOf(err), err, d.report.Reason, "fix the lab, or the hypothesis, and run the gameday again")
	}
	return nil
}

func (e *Engine) confirmGameday(d *drill) error {
	if e.Confirm == nil {
		return nil
	}
	last := time.Duration(0)
	for _, tf := range d.spec.Timeline {
		last = max(last, tf.At+tf.Duration)
	}
	ok, err := e.Confirm(fmt.Sprintf("Run gameday %s on lab %s: %d fault(s) over %s?", d.report.Name, d.lab.Name, len(d.spec.Timeline), last))
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "cancelled: nothing was changed", "")
	}
	return nil
}

// runTimeline injects and reverts the faults on time and probes between them, until the
// timeline is done or the drill stops early; stopped says why it stopped early ("" when
// it ran to its end).
func (d *drill) runTimeline(ctx context.Context) (stopped string) {
	next := 0 // the next fault to inject
	probeAt := d.engine.now()
	for next < len(d.spec.Timeline) || len(d.active) > 0 {
		wake := probeAt
		if next < len(d.spec.Timeline) {
			wake = minTime(wake, d.start.Add(d.spec.Timeline[next].At))
		}
		for _, a := range d.active {
			wake = minTime(wake, a.until)
		}
		if !d.sleepUntil(ctx, wake) {
			d.abort(ctx, GamedayInterrupted, "interrupted (Ctrl-C)")
			return GamedayInterrupted
		}
		now := d.engine.now()
		d.revertDue(ctx, now)
		for next < len(d.spec.Timeline) && !now.Before(d.start.Add(d.spec.Timeline[next].At)) {
			if err := d.inject(ctx, next); err != nil {
				d.abort(ctx, GamedayFailed, fmt.Sprintf("fault %s could not be injected: %v", d.spec.Timeline[next].ID, err))
				return GamedayFailed
			}
			next++
		}
		if !now.Before(probeAt) {
			if reason := d.probe(ctx); reason != "" {
				d.abort(ctx, GamedayAborted, reason)
				return GamedayAborted
			}
			probeAt = d.engine.now().Add(d.spec.SteadyState.ProbeInterval)
		}
	}
	return ""
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// sleepUntil waits until t; false when ctx ended first.
func (d *drill) sleepUntil(ctx context.Context, t time.Time) bool {
	wait := t.Sub(d.engine.now())
	if wait <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (d *drill) offset() time.Duration { return d.engine.now().Sub(d.start) }

func (d *drill) moment(event, format string, args ...any) {
	d.report.Timeline = append(d.report.Timeline, Moment{At: d.offset(), Event: event, Text: fmt.Sprintf(format, args...)})
}

// runOptions are timeline fault i's options, with the drill's seed for its choices.
func (d *drill) runOptions(i int) RunOptions {
	tf := d.spec.Timeline[i]
	params := Params{FaultParams: tf.FaultParams, Given: tf.Given}
	if params.Seed == nil {
		seed := d.report.Seed + int64(i)
		params.Seed = &seed
	}
	return RunOptions{Fault: tf.Type, Params: params, Limits: d.limits(), Duration: tf.Duration, Source: "gameday " + d.file}
}

// inject plans and injects timeline fault i.
func (d *drill) inject(ctx context.Context, i int) error {
	tf := d.spec.Timeline[i]
	out := &d.report.Faults[i]
	f, err := Lookup(tf.Type)
	if err != nil {
		return err
	}
	opts := d.runOptions(i)
	plan, _, _, err := d.engine.Plan(ctx, d.lab, opts)
	if err != nil {
		out.Error = err.Error()
		return err
	}
	d.engine.announce(plan)
	// Detection and recovery are timed from the start of the injection: a pod-kill's
	// damage begins with its first deletion, before Start returns.
	injected := d.offset()
	entry, err := d.engine.Start(ctx, d.env, f, plan, opts)
	if entry != nil {
		out.Entry = entry.ID
	}
	if err != nil {
		out.Error = err.Error()
		return err
	}
	out.Summary, out.Seed, out.Injected, out.Victims = plan.Summary, plan.Seed, &injected, victims(plan)
	d.active[i] = &activeFault{fault: f, entry: entry, until: d.engine.now().Add(tf.Duration)}
	d.moment("inject", "%s: %s (%s)", tf.ID, plan.Summary, entry.ID)
	return nil
}

func (d *drill) limits() Limits {
	lim := DefaultLimits
	b := d.spec.BlastRadius
	if b.MaxPods > 0 {
		lim.MaxPods = b.MaxPods
	}
	if b.MaxPercent > 0 {
		lim.MaxPercent = b.MaxPercent
	}
	lim.IncludeSystem, lim.BeyondCapacity, lim.inFile = b.IncludeSystem, b.BeyondCapacity, true
	return lim
}

// victims are the objects a plan deletes or evicts.
func victims(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Action == "delete" || c.Action == "evict" {
			out = append(out, c.ObjectRef.String())
		}
	}
	return out
}

// revertDue reverts the active faults whose duration is over.
func (d *drill) revertDue(ctx context.Context, now time.Time) {
	for _, i := range d.activeIndexes() {
		if a := d.active[i]; !now.Before(a.until) {
			d.revert(ctx, i)
		}
	}
}

func (d *drill) activeIndexes() []int {
	idx := make([]int, 0, len(d.active))
	for i := range d.active {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

// revert undoes fault i with a context of its own, so that Ctrl-C cannot stop it.
func (d *drill) revert(ctx context.Context, i int) {
	a := d.active[i]
	delete(d.active, i)
	revertCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
	defer cancel()
	out := &d.report.Faults[i]
	if err := d.engine.Stop(revertCtx, d.env, a.fault, a.entry); err != nil {
		out.Error = err.Error()
		d.moment("revert-failed", "%s: %v", out.ID, err)
		return
	}
	reverted := d.offset()
	out.Reverted = &reverted
	d.moment("revert", "%s reverted (%s)", out.ID, a.entry.ID)
}

// abort reverts every active fault at once and marks the faults not yet injected as
// skipped.
func (d *drill) abort(ctx context.Context, outcome, reason string) {
	d.report.Outcome, d.report.Reason = outcome, reason
	d.moment("abort", "%s: reverting every active fault", reason)
	d.engine.Events.Warn("gameday stopped: " + reason + "; reverting every active fault now")
	idx := d.activeIndexes()
	for j := len(idx) - 1; j >= 0; j-- { // the last injected first
		d.revert(ctx, idx[j])
	}
	for i := range d.report.Faults {
		if d.report.Faults[i].Injected == nil && d.report.Faults[i].Error == "" {
			d.report.Faults[i].Skipped = true
		}
	}
}

// probe evaluates the steady state, the detect checks and the abort conditions once,
// and records detection and recovery of the faults injected so far. It returns why the
// drill must abort, or "".
func (d *drill) probe(ctx context.Context) string {
	grader := &grade.Grader{Targets: d.targets, Once: true}
	steady := grader.Run(ctx, "steady state", d.spec.SteadyState.Checks)
	now := d.offset()
	passing := steady.Err() == nil
	d.noteTransition(passing, steady)
	detector := ""
	if !passing {
		detector = "steady state: " + failingChecks(steady)
	} else if len(d.spec.Detect) > 0 {
		if det := grader.Run(ctx, "detect", d.spec.Detect); det.Summary.Passed > 0 {
			detector = "detect: " + passingChecks(det)
		}
	}
	d.attribute(now, passing, detector)
	return d.abortReason(ctx, grader, passing)
}

// noteTransition records the probe in the timeline when the steady state changes.
func (d *drill) noteTransition(passing bool, rep *grade.Report) {
	if passing {
		d.failingSince = time.Time{}
	} else if d.failingSince.IsZero() {
		d.failingSince = d.engine.now()
	}
	if d.lastPassing != nil && *d.lastPassing == passing {
		return
	}
	d.lastPassing = &passing
	if passing {
		d.moment("probe-pass", "steady state holds")
	} else {
		d.moment("probe-fail", "steady state fails: %s", failingChecks(rep))
	}
}

// attribute gives each injected fault its time to detect (the first probe after its
// injection that failed or whose detect checks passed) and its time to recover (the
// first passing probe after that).
func (d *drill) attribute(now time.Duration, passing bool, detector string) {
	for i := range d.report.Faults {
		f := &d.report.Faults[i]
		if f.Injected == nil || now < *f.Injected {
			continue
		}
		if f.TimeToDetect == nil && detector != "" {
			ttd := now - *f.Injected
			f.TimeToDetect, f.DetectedBy = &ttd, detector
			d.moment("detect", "%s detected after %s by %s", f.ID, ttd.Round(time.Millisecond), detector)
			d.observe(f, ttd, true)
		}
		if f.TimeToDetect != nil && f.TimeToRecover == nil && passing && now > *f.Injected+*f.TimeToDetect {
			ttr := now - *f.Injected
			f.TimeToRecover = &ttr
			d.moment("recover", "%s recovered after %s", f.ID, ttr.Round(time.Millisecond))
			d.observe(f, ttr, false)
		}
	}
}

// detectionRecorder is a Recorder that also observes times to detect.
type detectionRecorder interface {
	Detected(lab, fault string, d time.Duration)
}

func (d *drill) observe(f *FaultOutcome, took time.Duration, detected bool) {
	m := d.engine.Metrics
	if m == nil {
		return
	}
	if !detected {
		m.Recovered(d.lab.Name, f.Type, took)
		return
	}
	if dr, ok := m.(detectionRecorder); ok {
		dr.Detected(d.lab.Name, f.Type, took)
	}
}

// abortReason checks the abort conditions.
func (d *drill) abortReason(ctx context.Context, grader *grade.Grader, passing bool) string {
	if failFor := d.spec.Abort.FailingFor; failFor > 0 && !passing && d.engine.now().Sub(d.failingSince) >= failFor {
		return fmt.Sprintf("the steady state has failed for %s (abort.failingFor)", failFor)
	}
	if len(d.spec.Abort.When) > 0 {
		if rep := grader.Run(ctx, "abort", d.spec.Abort.When); rep.Summary.Passed > 0 {
			return "abort condition holds: " + passingChecks(rep)
		}
	}
	return ""
}

// recover probes until the steady state holds again or recovery.timeout passes; it
// also finishes the detection and recovery times of faults still open.
func (d *drill) recover(ctx context.Context, stopped string) {
	if stopped == GamedayInterrupted {
		return
	}
	ended := d.engine.now()
	deadline := ended.Add(d.spec.Recovery.Timeout)
	grader := &grade.Grader{Targets: d.targets, Once: true}
	d.engine.Events.Step(ctx, "Verifying the steady state comes back", func(ctx context.Context) error {
		for {
			rep := grader.Run(ctx, "steady state after", d.spec.SteadyState.Checks)
			passing := rep.Err() == nil
			d.noteTransition(passing, rep)
			detector := ""
			if !passing {
				detector = "steady state: " + failingChecks(rep)
			}
			d.attribute(d.offset(), passing, detector)
			d.report.After = rep
			if passing {
				took := d.engine.now().Sub(ended)
				d.report.Recovered, d.report.RecoveredAfter = true, &took
				return nil
			}
			if !d.sleepUntil(ctx, minTime(d.engine.now().Add(d.spec.SteadyState.ProbeInterval), deadline)) || !d.engine.now().Before(deadline) {
				return fmt.Errorf("not back within %s: %s", d.spec.Recovery.Timeout, failingChecks(rep))
			}
		}
	})
}

// verdict sets the outcome and the error the command exits with.
func (d *drill) verdict(ctx context.Context) error {
	r := d.report
	if ctx.Err() != nil && r.Outcome == "" {
		r.Outcome, r.Reason = GamedayInterrupted, "interrupted (Ctrl-C) while verifying the recovery"
	}
	switch {
	case r.Outcome == GamedayInterrupted:
		return errs.New(errs.Interrupted, "gameday interrupted: every fault it injected was reverted", "")
	case r.Outcome != "":
		if !r.Recovered {
			r.Reason += "; and the steady state did not come back within " + d.spec.Recovery.Timeout.String()
		}
		return errs.New(errs.ChecksFailed, "gameday "+r.Outcome+": "+r.Reason, "the report's timeline shows what happened when")
	case !r.Recovered:
		r.Outcome = GamedayNotRecovered
		r.Reason = "the steady state did not come back within " + d.spec.Recovery.Timeout.String() + ": " + failingChecks(r.After)
		return errs.New(errs.ChecksFailed, "gameday "+r.Outcome+": "+r.Reason, "the report shows which checks still fail")
	}
	r.Outcome = GamedayPassed
	return nil
}

// failingChecks names the checks of severity error that did not pass, with evidence.
func failingChecks(rep *grade.Report) string {
	if rep == nil {
		return "no probe"
	}
	var out []string
	for _, c := range rep.Checks {
		if c.Severity == spec.SeverityError && c.Outcome != grade.Pass {
			out = append(out, fmt.Sprintf("%s %s (%s)", c.ID, c.Outcome, c.Summary()))
		}
	}
	return strings.Join(out, "; ")
}

func passingChecks(rep *grade.Report) string {
	var out []string
	for _, c := range rep.Checks {
		if c.Outcome == grade.Pass {
			out = append(out, c.ID)
		}
	}
	return strings.Join(out, ", ")
}
