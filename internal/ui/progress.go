package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/cloudnativelab/lab/internal/event"
)

// Progress renders the events of a command as they happen. Emit is safe for concurrent
// use. Close stops any spinner and must be called when the command ends, also when it
// fails; it may be called more than once.
type Progress interface {
	event.Sink
	Close()
}

// Progress returns the renderer for the output format: JSON lines on Out for -o json
// (there the events are the data), else spinners on ErrOut when it is a terminal, else
// one plain line per event on ErrOut.
func (s *IO) Progress(format Format) Progress {
	switch {
	case format == FormatJSON:
		return newJSONProgress(s.Out)
	case s.ErrIsTTY:
		return newTTYProgress(s.ErrOut, s.errPainter(), s.Width, spinnerInterval)
	default:
		return newPlainProgress(s.ErrOut)
	}
}

// plainProgress writes one line per event with no escape sequences, for logs and pipes.
type plainProgress struct {
	mu sync.Mutex
	w  io.Writer
}

func newPlainProgress(w io.Writer) *plainProgress { return &plainProgress{w: w} }

func (p *plainProgress) Emit(e event.Event) {
	line := plainLine(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, line)
}

func (p *plainProgress) Close() {}

// plainLine is how an event reads in a log: "• Step...", "✓ Step (2.4s)",
// "✗ Step: error", "- Step: skipped, reason", "• note", "! warning".
func plainLine(e event.Event) string {
	var line string
	switch e.Type {
	case event.StepStart:
		line = symbolInfo + " " + e.Step + "..."
	case event.StepDone:
		line = symbolDone + " " + e.Step + durationSuffix(e, " (", ")")
	case event.StepFail:
		line = symbolFail + " " + e.Step + ": " + e.Error
	case event.StepSkip:
		line = symbolSkip + " " + e.Step + ": skipped" + prefixed(", ", e.Message)
	case event.Warn:
		line = symbolWarn + " " + e.Message
	case event.Result:
		// The fields are for -o json; a person reads the message.
		return symbolDone + " " + e.Message
	default:
		line = symbolInfo + " " + e.Message
	}
	return indentLines(line+prefixed(" ", formatFields(e.Fields)), "  ")
}

// durationSuffix formats the event's duration between before and after, or gives ""
// for events that carry none.
func durationSuffix(e event.Event, before, after string) string {
	if e.Duration <= 0 {
		return ""
	}
	return before + formatDuration(e.Duration) + after
}

// prefixed gives prefix+s, or "" when s is empty.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// formatFields writes an event's fields as "key=value" pairs in key order, so that the
// same event always reads the same way.
func formatFields(fields map[string]string) string {
	pairs := make([]string, 0, len(fields))
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		pairs = append(pairs, key+"="+fields[key])
	}
	return strings.Join(pairs, " ")
}

// jsonProgress writes each event's JSON encoding on a line of its own.
type jsonProgress struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newJSONProgress(w io.Writer) *jsonProgress {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonProgress{enc: enc}
}

func (p *jsonProgress) Emit(e event.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// An Event always encodes; a failed write (a closed pipe) has nowhere to be reported.
	_ = p.enc.Encode(e)
}

func (p *jsonProgress) Close() {}
