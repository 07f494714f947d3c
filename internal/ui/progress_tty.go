package ui

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cloudnativelab/lab/internal/event"
)

const spinnerInterval = 100 * time.Millisecond

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// ttyProgress renders events the way kind does: a spinner line per running step that
// turns into a tick or a cross when the step ends.
//
// The screen has two parts. Above are finished lines that never change; below is the
// live area, one spinner line per running step, which is erased and redrawn on every
// event and every spinner frame. Everything is written under one mutex and each redraw
// is a single Write, so steps that run concurrently cannot interleave their output.
// The area is drawn with its own cursor movements rather than pterm's spinners, which
// animate one line each from goroutines of their own and share pterm's global state.
type ttyProgress struct {
	mu       sync.Mutex
	w        io.Writer
	paint    painter
	width    int           // columns of the terminal, 0 when unknown
	interval time.Duration // between spinner frames; 0 draws frames only on events

	running   []string // steps in progress, in start order; keyed by Step name
	drawn     int      // lines of the live area now on the screen
	frame     int
	animating bool
	closed    bool
	stop      chan struct{}
}

func newTTYProgress(w io.Writer, paint painter, width int, interval time.Duration) *ttyProgress {
	return &ttyProgress{w: w, paint: paint, width: width, interval: interval, stop: make(chan struct{})}
}

func (p *ttyProgress) Emit(e event.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		// Late events still get printed, just without a live area to keep up.
		io.WriteString(p.w, p.finishedLine(e)+"\n")
		return
	}
	p.track(e)
	p.redraw(p.finishedLine(e))
	p.startAnimation()
}

// Close erases the live area, leaving a line for each step that never finished so the
// user can see where the command stopped, and stops the spinner.
func (p *ttyProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.stop)
	var unfinished []string
	for _, step := range p.running {
		unfinished = append(unfinished, p.paint.dim(" "+symbolPending+" "+step+" (not finished)"))
	}
	p.running = nil
	p.redraw(strings.Join(unfinished, "\n"))
}

// track keeps the set of running steps up to date.
func (p *ttyProgress) track(e event.Event) {
	switch e.Type {
	case event.StepStart:
		p.running = append(p.running, e.Step)
	case event.StepDone, event.StepFail, event.StepSkip:
		if i := slices.Index(p.running, e.Step); i >= 0 {
			p.running = slices.Delete(p.running, i, i+1)
		}
	}
}

// finishedLine is what an event leaves on the screen for good; "" for a start, which
// only shows in the live area. Before Close, that is.
func (p *ttyProgress) finishedLine(e event.Event) string {
	switch e.Type {
	case event.StepStart:
		if p.closed {
			return " " + symbolInfo + " " + e.Step + "..."
		}
		return ""
	case event.StepDone:
		return " " + p.paint.green(symbolDone) + " " + e.Step + p.paint.dim(durationSuffix(e, " ", ""))
	case event.StepFail:
		// The error is shown under the step as well as by PrintError at the end, because
		// with concurrent steps the error a command returns need not be this one.
		return " " + p.paint.red(symbolFail) + " " + e.Step + p.paint.dim(durationSuffix(e, " ", "")) +
			prefixed("\n   ", p.paint.red(indentLines(e.Error, "   ")))
	case event.StepSkip:
		reason := e.Message
		if reason == "" {
			reason = "already done"
		}
		// Not a tick: a skipped step (a gate a simulated lab cannot run) must never read
		// as a passed one, with or without colour.
		return p.paint.dim(" " + symbolSkip + " " + e.Step + " (skipped: " + reason + ")")
	case event.Result:
		return " " + p.paint.green(symbolDone) + " " + e.Message
	case event.Warn:
		return p.paint.yellow(indentLines(" "+symbolWarn+" "+e.Message+prefixed(" ", formatFields(e.Fields)), "   "))
	default:
		return indentLines(" "+symbolInfo+" "+e.Message, "   ") + p.paint.dim(prefixed(" ", formatFields(e.Fields)))
	}
}

// redraw replaces the live area with finished (if any) followed by a fresh live area.
func (p *ttyProgress) redraw(finished string) {
	if p.drawn == 0 && finished == "" && len(p.running) == 0 {
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		// The cursor is at the start of the line below the area: go up to its first
		// line and clear to the end of the screen.
		b.WriteString("\x1b[" + strconv.Itoa(p.drawn) + "A\x1b[J")
	}
	if finished != "" {
		b.WriteString(finished + "\n")
	}
	for _, step := range p.running {
		b.WriteString(p.liveLine(step) + "\n")
	}
	p.drawn = len(p.running)
	// Nothing to do about a failed write to the terminal; the command's result matters more.
	io.WriteString(p.w, b.String())
}

// liveLine is a running step with the current spinner frame, cut to the terminal width
// because a wrapped line would take two rows and throw off the cursor movements.
func (p *ttyProgress) liveLine(step string) string {
	const lead = 3 // " ⠋ "
	if p.width > lead+1 {
		step = Truncate(step, p.width-lead-1)
	}
	return " " + p.paint.cyan(spinnerFrames[p.frame%len(spinnerFrames)]) + " " + step
}

// startAnimation starts the goroutine that turns the spinners, if steps are running and
// it is not running already. It stops by itself when no step is left.
func (p *ttyProgress) startAnimation() {
	if p.animating || p.interval <= 0 || len(p.running) == 0 {
		return
	}
	p.animating = true
	go p.animate()
}

func (p *ttyProgress) animate() {
	ticker := time.NewTicker(p.interval)
	defer ticker.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-ticker.C:
			if !p.nextFrame() {
				return
			}
		}
	}
}

// nextFrame advances the spinners; false when there is nothing left to animate.
func (p *ttyProgress) nextFrame() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.running) == 0 {
		p.animating = false
		return false
	}
	p.frame++
	p.redraw("")
	return true
}

// Truncate cuts s to at most n runes, marking the cut with an ellipsis.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}
