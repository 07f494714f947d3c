package ui

import (
	"testing"
	"time"
)

func TestColorWanted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{name: "default", env: map[string]string{"TERM": "xterm-256color"}, want: true},
		{name: "NO_COLOR set", env: map[string]string{"NO_COLOR": "1"}, want: false},
		{name: "NO_COLOR empty still counts", env: map[string]string{"NO_COLOR": ""}, want: false},
		{name: "dumb terminal", env: map[string]string{"TERM": "dumb"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lookup := func(key string) (string, bool) { v, ok := tt.env[key]; return v, ok }
			if got := colorWanted(lookup); got != tt.want {
				t.Errorf("colorWanted = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{in: 0, want: "0s"},
		{in: 420 * time.Microsecond, want: "420µs"},
		{in: 350400 * time.Microsecond, want: "350ms"},
		{in: 999600 * time.Microsecond, want: "1s"},
		{in: 2430 * time.Millisecond, want: "2.4s"},
		{in: 75*time.Second + 260*time.Millisecond, want: "1m15.3s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := formatDuration(tt.in); got != tt.want {
				t.Errorf("formatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNotefGoesToStderr(t *testing.T) {
	t.Parallel()
	ios, _, out, errOut := Test()
	ios.Notef("no labs yet; run %s", "lab up")
	if out.Len() != 0 || errOut.String() != "no labs yet; run lab up\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
}

// A redrawn view clears a terminal and leaves a log alone.
func TestClearScreen(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{true, false} {
		ios, _, out, _ := Test()
		ios.IsTTY = tty
		if got := ios.ClearScreen(); got != tty {
			t.Errorf("tty=%v: ClearScreen() = %v", tty, got)
		}
		if want := map[bool]string{true: "\x1b[H\x1b[2J", false: ""}[tty]; out.String() != want {
			t.Errorf("tty=%v: wrote %q, want %q", tty, out.String(), want)
		}
	}
}
