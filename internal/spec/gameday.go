package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// KindGameday is the kind of a chaos drill file.
const KindGameday = "Gameday"

// Defaults and limits of a gameday.
const (
	DefaultProbeInterval   = 2 * time.Second
	DefaultFaultDuration   = 30 * time.Second
	DefaultRecoveryTimeout = 2 * time.Minute
	MaxGamedayLength       = 12 * time.Hour
)

// Gameday is a chaos drill: a steady-state hypothesis verified before, probed during and
// verified after a timeline of faults, with conditions that abort the drill.
type Gameday struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Metadata    `json:"metadata"`
	Spec       GamedaySpec `json:"spec"`

	// src is where each field was written, so that a problem found after loading (a
	// fault the guard rails refuse) is placed on its line too: see Problem.
	src *Source
}

// Problem places a problem found after loading, such as a fault the guard rails refuse,
// on the line where path was written (file:line: path: message); a Gameday built in code
// has no lines.
func (g *Gameday) Problem(path, msg string) *FieldError {
	if g.src == nil {
		return &FieldError{Field: path, Message: msg}
	}
	p := g.src.At(path)
	return &FieldError{File: g.src.File, Line: p.Line, Column: p.Column, Field: path, Message: msg}
}

// GamedaySpec is what a drill holds.
type GamedaySpec struct {
	// Seed makes every random choice of the drill replayable; --seed overrides it.
	Seed        *int64      `json:"seed,omitempty"`
	SteadyState SteadyState `json:"steadyState"`
	// Detect are checks whose passing means a fault was noticed (an alert firing). A
	// failing steady-state probe counts as detection too.
	Detect   []Check         `json:"detect,omitempty"`
	Timeline []TimelineFault `json:"timeline"`
	Abort    Abort           `json:"abort,omitempty"`
	Recovery Recovery        `json:"recovery,omitempty"`
	// BlastRadius are the guard rails of every fault of the drill; zero values take
	// lab chaos's defaults.
	BlastRadius BlastRadius `json:"blastRadius,omitempty"`
}

// SteadyState is the hypothesis: grading checks that hold when the system is healthy.
type SteadyState struct {
	Checks []Check `json:"checks"`
	// ProbeInterval is how often the checks are evaluated during the drill.
	ProbeInterval time.Duration `json:"probeInterval,omitempty"`
}

// TimelineFault is one fault of the drill, injected At after the start and reverted
// Duration later (default 30s; 0 reverts at once). It is written as a scenario's fault
// is: the fault's name in type, the parameters `lab chaos run` takes as flags beside it.
type TimelineFault struct {
	// ID names the fault in the report (default: its position and type, 1-pod-kill).
	ID string        `json:"id,omitempty"`
	At time.Duration `json:"at"`
	Fault
}

// Abort says when the drill stops early, reverting every fault at once.
type Abort struct {
	// FailingFor aborts once the steady state has failed this long without a break
	// (0: never for that reason).
	FailingFor time.Duration `json:"failingFor,omitempty"`
	// When aborts as soon as any of these checks passes (an error rate far too high).
	When []Check `json:"when,omitempty"`
}

// Recovery bounds the wait, after the last fault, for the steady state to hold again.
type Recovery struct {
	Timeout time.Duration `json:"timeout,omitempty"`
}

// BlastRadius caps what the drill's faults may touch.
type BlastRadius struct {
	MaxPods       int  `json:"maxPods,omitempty"`
	MaxPercent    int  `json:"maxPercent,omitempty"`
	IncludeSystem bool `json:"includeSystem,omitempty"`
	// BeyondCapacity lets a fault grow past what the lab's nodes hold (scale up, hogs).
	BeyondCapacity bool `json:"beyondCapacity,omitempty"`
}

// FaultCheck validates one fault's type and parameters, returning a message per field
// (camelCase parameter, or "type"). The chaos package provides it: this package decodes
// faults but does not know them.
type FaultCheck func(f Fault) map[string]string

const gamedayHint = "docs/chaos.md describes a gameday file, with an example"

// LoadGameday reads a gameday file strictly, applies defaults and validates it, the
// faults with check. The error lists every problem as file:line: field: message.
func LoadGameday(file string, data []byte, check FaultCheck) (*Gameday, error) {
	var g Gameday
	src, err := DecodeVersioned(file, data, APIVersion, KindGameday, &g)
	if src == nil {
		return nil, err
	}
	src.Hint = gamedayHint
	g.Spec.defaultAndValidate(src, check)
	validateName(src, "metadata.name", g.Metadata.Name)
	if err := src.Err(); err != nil {
		return nil, err
	}
	g.src = src
	return &g, nil
}

// LoadGamedayFile is LoadGameday for a file on disk.
func LoadGamedayFile(path string, check FaultCheck) (*Gameday, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Invalidf("check the path", "gameday file %s does not exist", path)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read gameday file", "")
	}
	return LoadGameday(path, data, check)
}

func (s *GamedaySpec) defaultAndValidate(src *Source, check FaultCheck) {
	s.checkList(src, "spec.steadyState.checks", s.SteadyState.Checks, true)
	s.checkList(src, "spec.detect", s.Detect, false)
	s.checkList(src, "spec.abort.when", s.Abort.When, false)
	s.SteadyState.ProbeInterval = durationOr(src, "spec.steadyState.probeInterval", s.SteadyState.ProbeInterval, DefaultProbeInterval)
	if p := s.SteadyState.ProbeInterval; p < MinCheckInterval || p > MaxCheckTimeout {
		src.Addf("spec.steadyState.probeInterval", "must be between %s and %s, got %s", MinCheckInterval, MaxCheckTimeout, p)
	}
	s.Recovery.Timeout = durationOr(src, "spec.recovery.timeout", s.Recovery.Timeout, DefaultRecoveryTimeout)
	if t := s.Recovery.Timeout; t <= 0 || t > MaxCheckTimeout {
		src.Addf("spec.recovery.timeout", "must be more than 0s and at most %s, got %s", MaxCheckTimeout, t)
	}
	if s.Abort.FailingFor < 0 {
		src.Addf("spec.abort.failingFor", "must not be negative, got %s", s.Abort.FailingFor)
	}
	if s.BlastRadius.MaxPods < 0 || src.Has("spec.blastRadius.maxPods") && s.BlastRadius.MaxPods == 0 {
		src.Addf("spec.blastRadius.maxPods", "must be at least 1, got %d", s.BlastRadius.MaxPods)
	}
	if p := s.BlastRadius.MaxPercent; p < 0 || p > 100 || src.Has("spec.blastRadius.maxPercent") && p == 0 {
		src.Addf("spec.blastRadius.maxPercent", "must be between 1 and 100, got %d", p)
	}
	s.validateTimeline(src, check)
}

// checkList defaults and validates a list of checks; an optional list may be absent.
func (s *GamedaySpec) checkList(src *Source, path string, checks []Check, required bool) {
	if !required && len(checks) == 0 && !src.Has(path) {
		return
	}
	rejectExplicitZeros(src, path, checks)
	for i := range checks {
		checks[i].Default()
	}
	validateChecks(src, path, checks)
}

// durationOr is d, or def when the field was not written (an explicit 0 stays 0, for
// the validation to report).
func durationOr(src *Source, path string, d, def time.Duration) time.Duration {
	if d == 0 && !src.Has(path) {
		return def
	}
	return d
}

func (s *GamedaySpec) validateTimeline(src *Source, check FaultCheck) {
	if len(s.Timeline) == 0 {
		src.Addf("spec.timeline", "needs at least one fault")
	}
	seen := map[string]string{}
	for i := range s.Timeline {
		f := &s.Timeline[i]
		path := indexPath("spec.timeline", i)
		f.Duration = durationOr(src, path+".duration", f.Duration, DefaultFaultDuration)
		if f.ID == "" {
			f.ID = fmt.Sprintf("%d-%s", i+1, f.Type)
		}
		if other, dup := seen[f.ID]; dup {
			src.Addf(path+".id", "duplicate id %q (already at %s)", f.ID, other)
		}
		seen[f.ID] = lastSegment(path)
		switch {
		case f.At < 0:
			src.Addf(path+".at", "must not be negative, got %s", f.At)
		case f.Duration < 0:
			src.Addf(path+".duration", "must not be negative, got %s", f.Duration)
		case f.At+f.Duration > MaxGamedayLength:
			src.Addf(path+".duration", "the fault would end %s after the start, beyond the %s a drill may last", f.At+f.Duration, MaxGamedayLength)
		}
		if f.Type == "" {
			src.Addf(path+".type", "is required: a fault such as pod-kill (see `lab chaos list`)")
			continue
		}
		f.Given = writtenParams(src, path)
		if check == nil {
			continue
		}
		for field, msg := range check(f.Fault) {
			src.Addf(path+"."+field, "%s", msg)
		}
	}
}

// writtenParams are the fault parameters written under path.
func writtenParams(src *Source, path string) []string {
	var given []string
	for _, f := range fieldsOf(reflect.TypeFor[FaultParams]()).list {
		if src.Has(path + "." + f.name) {
			given = append(given, f.name)
		}
	}
	return given
}
