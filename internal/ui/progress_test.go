package ui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/event"
)

func TestProgressChoosesRendererByModeAndStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		format   Format
		errTTY   bool
		wantOut  bool // the events land on Out rather than ErrOut
		wantLine string
	}{
		{name: "json goes to stdout", format: FormatJSON, errTTY: true, wantOut: true, wantLine: `"type":"info"`},
		{name: "plain when stderr is piped", format: FormatTable, wantLine: "• hello\n"},
		{name: "yaml still shows plain progress", format: FormatYAML, wantLine: "• hello\n"},
		{name: "spinner renderer on a terminal", format: FormatTable, errTTY: true, wantLine: " • hello\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, out, errOut := Test()
			ios.ErrIsTTY = tt.errTTY
			p := ios.Progress(tt.format)
			p.Emit(event.Event{Time: clock, Type: event.Info, Message: "hello"})
			p.Close()
			got, other := errOut.String(), out.String()
			if tt.wantOut {
				got, other = other, got
			}
			if !strings.Contains(got, tt.wantLine) || other != "" {
				t.Errorf("got %q on the expected stream and %q on the other, want %q", got, other, tt.wantLine)
			}
		})
	}
}

func TestPlainProgressGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newPlainProgress(&buf)
	emitAll(p, sampleEvents())
	p.Close()
	if bytes.IndexByte(buf.Bytes(), 0x1b) >= 0 {
		t.Errorf("plain output contains an escape sequence: %q", buf.String())
	}
	assertGolden(t, "progress_plain", buf.Bytes())
}

func TestJSONProgressWritesOneValidEventPerLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newJSONProgress(&buf)
	events := sampleEvents()
	emitAll(p, events)
	p.Close()
	assertGolden(t, "progress_json", buf.Bytes())

	scanner := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	var decoded []event.Event
	for scanner.Scan() {
		var e event.Event
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", len(decoded)+1, err, scanner.Bytes())
		}
		decoded = append(decoded, e)
	}
	if len(decoded) != len(events) {
		t.Fatalf("decoded %d events, emitted %d", len(decoded), len(events))
	}
	for i := range events {
		if !decoded[i].Time.Equal(events[i].Time) || decoded[i].Type != events[i].Type || decoded[i].Duration != events[i].Duration {
			t.Errorf("event %d: round trip gave %+v, want %+v", i, decoded[i], events[i])
		}
	}
}

func TestTTYProgressFinalScreenGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newTTYProgress(&buf, painter(false), 80, 0)
	emitAll(p, sampleEvents())
	p.Close()
	assertGolden(t, "progress_tty", []byte(screen(buf.String())))
}

func TestTTYProgressWithoutColourWritesNoColourCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		color bool
		want  bool
	}{
		{name: "NO_COLOR or --no-color", color: false, want: false},
		{name: "colour terminal", color: true, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _, errOut := Test()
			ios.ErrIsTTY, ios.Color = true, tt.color
			p := ios.Progress(FormatTable)
			emitAll(p, sampleEvents())
			p.Close()
			if got := sgr.MatchString(errOut.String()); got != tt.want {
				t.Errorf("colour codes present = %v, want %v in %q", got, tt.want, errOut.String())
			}
			// Cursor movements for the live area are the only escapes left without colour.
			if !tt.color && strings.Contains(csi.ReplaceAllStringFunc(errOut.String(), keepCursorUpAndErase), "\x1b") {
				t.Errorf("unexpected escape sequence in %q", errOut.String())
			}
		})
	}
}

// keepCursorUpAndErase removes the sequences the live area needs, leaving any others.
func keepCursorUpAndErase(seq string) string {
	if strings.HasSuffix(seq, "A") || strings.HasSuffix(seq, "J") {
		return ""
	}
	return seq
}

func TestTTYProgressConcurrentStepsEachKeepTheirLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newTTYProgress(&buf, painter(false), 80, 0)
	p.Emit(event.Event{Type: event.StepStart, Step: "Pulling image"})
	p.Emit(event.Event{Type: event.StepStart, Step: "Creating network"})
	p.nextFrame()
	if got, want := screen(buf.String()), " ⠙ Pulling image\n ⠙ Creating network\n"; got != want {
		t.Errorf("while both run the screen is\n%s\nwant\n%s", got, want)
	}
	p.Emit(event.Event{Type: event.StepDone, Step: "Creating network", Duration: 1200 * time.Millisecond})
	p.Emit(event.Event{Type: event.Warn, Message: "slow registry"})
	if got, want := screen(buf.String()), " ✓ Creating network 1.2s\n ! slow registry\n ⠙ Pulling image\n"; got != want {
		t.Errorf("after one finished the screen is\n%s\nwant\n%s", got, want)
	}
	p.Close()
	if got, want := screen(buf.String()), " ✓ Creating network 1.2s\n ! slow registry\n - Pulling image (not finished)\n"; got != want {
		t.Errorf("after Close the screen is\n%s\nwant\n%s", got, want)
	}
	p.Emit(event.Event{Type: event.StepStart, Step: "Cleaning up"})
	if got, want := screen(buf.String()), " ✓ Creating network 1.2s\n ! slow registry\n - Pulling image (not finished)\n • Cleaning up...\n"; got != want {
		t.Errorf("an event after Close gives\n%s\nwant\n%s", got, want)
	}
}

func TestTTYProgressTruncatesLiveLinesToTheWidth(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newTTYProgress(&buf, painter(false), 20, 0)
	p.Emit(event.Event{Type: event.StepStart, Step: "A step with a very long name"})
	if got, want := screen(buf.String()), " ⠋ A step with a v…\n"; got != want {
		t.Errorf("screen is %q, want %q", got, want)
	}
	p.Close()
}

// TestRenderersAreSafeForConcurrentEmit runs with the spinner turning; go test -race
// checks the locking.
func TestRenderersAreSafeForConcurrentEmit(t *testing.T) {
	t.Parallel()
	const steps = 20
	tests := []struct {
		name     string
		progress func(*bytes.Buffer) Progress
		screen   bool // replay the output on a terminal before counting
		perStep  int  // lines that name each step
	}{
		{name: "tty", progress: func(b *bytes.Buffer) Progress { return newTTYProgress(b, painter(true), 80, time.Millisecond) }, screen: true, perStep: 1},
		{name: "plain", progress: func(b *bytes.Buffer) Progress { return newPlainProgress(b) }, perStep: 2},
		{name: "json", progress: func(b *bytes.Buffer) Progress { return newJSONProgress(b) }, perStep: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			p := tt.progress(&buf)
			var wg sync.WaitGroup
			for i := range steps {
				wg.Go(func() {
					step := fmt.Sprintf("step %02d", i)
					p.Emit(event.Event{Type: event.StepStart, Step: step})
					time.Sleep(2 * time.Millisecond)
					p.Emit(event.Event{Type: event.StepDone, Step: step, Duration: time.Second})
				})
			}
			wg.Wait()
			p.Close()
			p.Close() // a second Close is harmless
			out := sgr.ReplaceAllString(buf.String(), "")
			if tt.screen {
				out = screen(out)
			}
			for i := range steps {
				if n := strings.Count(out, fmt.Sprintf("step %02d", i)); n != tt.perStep {
					t.Errorf("step %02d appears %d times, want %d, in\n%s", i, n, tt.perStep, out)
				}
			}
		})
	}
}
