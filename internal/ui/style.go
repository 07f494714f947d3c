package ui

import (
	"strings"
	"time"

	"github.com/pterm/pterm"
)

// Symbols shared by the TTY and plain renderers.
const (
	symbolDone    = "✓"
	symbolFail    = "✗"
	symbolInfo    = "•"
	symbolWarn    = "!"
	symbolSkip    = "-"
	symbolPending = "-"
)

// painter colours text when true. It writes the escape sequences itself, from pterm's
// colour codes, instead of calling pterm's Sprint: pterm decides about colour from a
// package-level switch, which would make one renderer's choice leak into another's.
type painter bool

func (p painter) paint(s string, colors ...pterm.Color) string {
	if !p || s == "" {
		return s
	}
	return "\x1b[" + pterm.Style(colors).String() + "m" + s + "\x1b[0m"
}

func (p painter) green(s string) string  { return p.paint(s, pterm.FgGreen) }
func (p painter) red(s string) string    { return p.paint(s, pterm.FgRed) }
func (p painter) yellow(s string) string { return p.paint(s, pterm.FgYellow) }
func (p painter) cyan(s string) string   { return p.paint(s, pterm.FgCyan) }
func (p painter) dim(s string) string    { return p.paint(s, pterm.FgGray) }
func (p painter) bold(s string) string   { return p.paint(s, pterm.Bold) }

// formatDuration rounds d for people: milliseconds below a second ("350ms"), tenths of a
// second above ("2.4s", "1m15.3s"). Durations under a millisecond keep microseconds so
// that they do not read as "0s".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

// indentLines puts prefix before every line of s after the first, so that continuation
// lines of a multi-line message sit under its first line.
func indentLines(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
