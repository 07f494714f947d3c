package ui

import (
	"io"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/pterm/pterm"
)

// PrintError writes err to ErrOut as "Error: message", red on a colour terminal, and
// "Hint: hint" below when the error carries a hint. A message of several lines (such
// as one file:line problem per line) keeps one line each, indented under "Error:".
// A nil err prints nothing.
func (s *IO) PrintError(err error) {
	if err == nil {
		return
	}
	paint := s.errPainter()
	text := paint.paint("Error:", pterm.FgRed, pterm.Bold) + " " + paint.red(indentLines(strings.TrimSpace(err.Error()), "  ")) + "\n"
	if hint := errs.HintOf(err); hint != "" {
		text += paint.bold("Hint:") + " " + indentLines(strings.TrimSpace(hint), "  ") + "\n"
	}
	// Nowhere left to report a failure to write to stderr.
	io.WriteString(s.ErrOut, text)
}
