// Package event is the one stream of progress that engines emit and the ui renders: steps
// that start and end (with durations), notes and warnings. Engines never print; they send
// events to a Sink.
package event

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Type of an event.
type Type string

const (
	StepStart Type = "start"  // a step began
	StepDone  Type = "done"   // a step succeeded
	StepFail  Type = "fail"   // a step failed; Error says why
	StepSkip  Type = "skip"   // a step was not needed (already done)
	Info      Type = "info"   // a one-line notice
	Warn      Type = "warn"   // something the user should know and may act on
	Result    Type = "result" // the outcome of a command, closing the stream
)

// Event is one thing that happened. Its JSON form is what `-o json` prints, one per line.
type Event struct {
	Time     time.Time         `json:"time"`
	Type     Type              `json:"type"`
	Step     string            `json:"step,omitempty"`
	Message  string            `json:"message,omitempty"`
	Error    string            `json:"error,omitempty"`
	Duration time.Duration     `json:"durationNs,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// Sink receives events. Implementations must be safe for concurrent use.
type Sink interface {
	Emit(Event)
}

// Discard drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Emit(Event) {}

// Recorder keeps every event; for tests and for reports built after the fact.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns a copy of what was recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Said is true when an event's message contains text.
func (r *Recorder) Said(text string) bool {
	for _, e := range r.Events() {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// Emitter stamps events with the time before passing them on. A nil *Emitter discards
// them, so that an engine used without a renderer needs no emitter of its own.
type Emitter struct {
	Sink Sink
	Now  func() time.Time
}

// NewEmitter wraps sink (nil means Discard).
func NewEmitter(sink Sink) *Emitter {
	if sink == nil {
		sink = Discard
	}
	return &Emitter{Sink: sink, Now: time.Now}
}

func (e *Emitter) emit(ev Event) {
	if e == nil {
		return
	}
	ev.Time = e.Now()
	e.Sink.Emit(ev)
}

// Emit passes an event on with the emitter's time: an Emitter is a Sink too, for code
// that reports to a Sink.
func (e *Emitter) Emit(ev Event) { e.emit(ev) }

// Info emits a notice.
func (e *Emitter) Info(msg string) { e.emit(Event{Type: Info, Message: msg}) }

// Warn emits a warning.
func (e *Emitter) Warn(msg string) { e.emit(Event{Type: Warn, Message: msg}) }

// Skip reports a step that did not need doing.
func (e *Emitter) Skip(step, why string) { e.emit(Event{Type: StepSkip, Step: step, Message: why}) }

// Step runs fn as a named step: start, then done or fail with the duration.
func (e *Emitter) Step(ctx context.Context, step string, fn func(context.Context) error) error {
	if e == nil {
		return fn(ctx)
	}
	start := e.Now()
	e.emit(Event{Type: StepStart, Step: step})
	err := fn(ctx)
	d := e.Now().Sub(start)
	if err != nil {
		e.emit(Event{Type: StepFail, Step: step, Duration: d, Error: err.Error()})
		return err
	}
	e.emit(Event{Type: StepDone, Step: step, Duration: d})
	return nil
}
