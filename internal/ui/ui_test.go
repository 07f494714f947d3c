package ui

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/golden"
)

// assertGolden compares got with testdata/<name>.golden, or rewrites the file with -update.
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Compare(t, filepath.Join("testdata", name+".golden"), got)
}

// clock is a fixed point in time, so that encoded events never change.
var clock = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// at is clock plus d.
func at(d time.Duration) time.Time { return clock.Add(d) }

// sampleEvents is a command run with one event of every type.
func sampleEvents() []event.Event {
	return []event.Event{
		{Time: at(0), Type: event.StepStart, Step: "Creating cluster (sim)"},
		{Time: at(2430 * time.Millisecond), Type: event.StepDone, Step: "Creating cluster (sim)", Duration: 2430 * time.Millisecond},
		{Time: at(2500 * time.Millisecond), Type: event.StepSkip, Step: "Installing CNI", Message: "already installed"},
		{Time: at(2600 * time.Millisecond), Type: event.StepStart, Step: "Writing kubeconfig"},
		{Time: at(2950 * time.Millisecond), Type: event.StepDone, Step: "Writing kubeconfig", Duration: 350 * time.Millisecond},
		{Time: at(3 * time.Second), Type: event.Info, Message: "Kubeconfig written", Fields: map[string]string{"path": "/home/u/.kube/config", "context": "lab-web"}},
		{Time: at(3 * time.Second), Type: event.Warn, Message: "Docker has 2 CPUs; the lab wants 4"},
		{Time: at(3 * time.Second), Type: event.StepStart, Step: "Waiting for nodes"},
		{Time: at(183 * time.Second), Type: event.StepFail, Step: "Waiting for nodes", Duration: 180*time.Second + 50*time.Millisecond,
			Error: "timed out after 3m0s:\nnode lab-worker is not Ready"},
	}
}

func emitAll(sink event.Sink, events []event.Event) {
	for _, e := range events {
		sink.Emit(e)
	}
}

// sgr matches colour sequences; csi matches every control sequence.
var (
	sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	csi = regexp.MustCompile(`\x1b\[([0-9;]*)([A-Za-z])`)
)

// screen replays what a terminal would show for out: enough of a terminal for the
// sequences the TTY renderer writes (newline, carriage return, cursor up, erase to the
// end of the screen or line, colours ignored). Trailing spaces are trimmed.
func screen(out string) string {
	var lines [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(lines) <= row {
			lines = append(lines, nil)
		}
		for len(lines[row]) <= col {
			lines[row] = append(lines[row], ' ')
		}
		lines[row][col] = r
		col++
	}
	for len(out) > 0 {
		if m := csi.FindStringSubmatchIndex(out); m != nil && m[0] == 0 {
			arg, cmd := out[m[2]:m[3]], out[m[4]:m[5]]
			n, _ := strconv.Atoi(arg)
			switch cmd {
			case "A":
				row = max(0, row-max(n, 1))
			case "J":
				lines = lines[:min(len(lines), row+1)]
				fallthrough
			case "K":
				if row < len(lines) && col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
			}
			out = out[m[1]:]
			continue
		}
		r, size := utf8.DecodeRuneInString(out)
		out = out[size:]
		switch r {
		case '\n':
			row, col = row+1, 0
		case '\r':
			col = 0
		default:
			put(r)
		}
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight(string(l), " ") + "\n")
	}
	return b.String()
}

// TestCount: "1 step", never "1 steps".
func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 steps", 1: "1 step", 2: "2 steps"} {
		if got := Count(n, "step"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
