// Package ui is the only package that talks to the terminal: it renders progress events,
// tables, details, errors and prompts, for a TTY (colour, spinners), for plain output
// (pipes, CI logs) and as JSON or YAML.
//
// Data goes to IO.Out (stdout) so it can be piped; progress, notes, prompts and errors go
// to IO.ErrOut (stderr). Every renderer takes its writers and its colour choice from an
// IO value rather than from pterm's global settings, so two renderers with different
// settings (as in parallel tests) never affect each other.
package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// IO is the process's standard streams and what is known about them.
type IO struct {
	In     io.Reader
	Out    io.Writer // data: tables, JSON, YAML
	ErrOut io.Writer // progress, notes, prompts, errors

	IsTTY    bool // Out is a terminal: tables get pterm's borders
	ErrIsTTY bool // ErrOut is a terminal: progress gets spinners
	InIsTTY  bool // In is a terminal: Confirm may ask

	// Color allows colour on the streams that are terminals; a stream that is not a
	// terminal is never coloured. Set it to false for --no-color.
	Color bool

	// Width is the terminal width of ErrOut in columns, 0 when unknown. Spinner lines are
	// cut to it, because a wrapped line would break the redrawing of the live area.
	Width int
}

// System describes the real process: stdin, stdout and stderr, whether each is a
// terminal, and whether colour is wanted (not when NO_COLOR is set to any value, nor
// for TERM=dumb).
func System() *IO {
	return &IO{
		In:       os.Stdin,
		Out:      os.Stdout,
		ErrOut:   os.Stderr,
		IsTTY:    isTerminal(os.Stdout),
		ErrIsTTY: isTerminal(os.Stderr),
		InIsTTY:  isTerminal(os.Stdin),
		Color:    colorWanted(os.LookupEnv),
		Width:    terminalWidth(os.Stderr),
	}
}

// Test returns an IO on buffers, with no terminal and no colour, and the buffers behind
// In, Out and ErrOut. Tests flip the TTY and Color fields to try other modes.
func Test() (ios *IO, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IO{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Notef writes a one-line note for the user to ErrOut, dimmed on a colour terminal:
// for remarks next to data (such as "no labs yet") that must not end up in a pipe.
func (s *IO) Notef(format string, args ...any) {
	fmt.Fprintln(s.ErrOut, s.errPainter().dim(fmt.Sprintf(format, args...)))
}

// outPainter colours what goes to Out, if Out is a colour terminal.
// ClearScreen clears a terminal on stdout and moves the cursor home, for views redrawn
// in place (lab grade --watch); it reports false and writes nothing when stdout is not
// a terminal.
func (s *IO) ClearScreen() bool {
	if !s.IsTTY {
		return false
	}
	fmt.Fprint(s.Out, "\x1b[H\x1b[2J")
	return true
}

func (s *IO) outPainter() painter { return painter(s.Color && s.IsTTY) }

// errPainter colours what goes to ErrOut, if ErrOut is a colour terminal.
func (s *IO) errPainter() painter { return painter(s.Color && s.ErrIsTTY) }

// colorWanted follows https://no-color.org: NO_COLOR with any value turns colour off.
// TERM=dumb terminals do not understand escape sequences at all.
func colorWanted(lookup func(string) (string, bool)) bool {
	if _, set := lookup("NO_COLOR"); set {
		return false
	}
	termName, _ := lookup("TERM")
	return termName != "dumb"
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func terminalWidth(f *os.File) int {
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}
