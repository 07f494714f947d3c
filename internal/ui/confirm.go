package ui

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Confirm asks question on ErrOut and reads a y/N answer from In; anything but "y" or
// "yes" (any case), including end of input, is no. assumeYes (--yes) answers yes
// without asking. Without a terminal to ask on it refuses with an errs.Invalid error,
// so that scripts do not hang on a prompt nobody sees.
func (s *IO) Confirm(question string, assumeYes bool) (bool, error) {
	if assumeYes {
		return true, nil
	}
	if !s.InIsTTY || !s.ErrIsTTY {
		return false, errs.Invalidf("pass --yes to go ahead without a prompt",
			"cannot ask %q: there is no terminal to answer on", question)
	}
	fmt.Fprintf(s.ErrOut, "%s %s ", question, s.errPainter().dim("[y/N]"))
	answer, complete, err := readLine(s.In)
	if !complete {
		// End of input (Ctrl-D) leaves the cursor after the prompt; whatever comes next
		// deserves a line of its own.
		fmt.Fprintln(s.ErrOut)
	}
	if err != nil {
		return false, errs.Wrap(errs.Internal, err, "reading the answer", "")
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	default:
		return false, nil
	}
}

// readLine reads up to the next newline one byte at a time: a buffered reader would
// swallow input meant for whoever reads In next. complete is false when the input ended
// (or failed) before a newline.
func readLine(r io.Reader) (line string, complete bool, err error) {
	var text []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 && buf[0] == '\n' {
			return string(text), true, nil
		}
		text = append(text, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return string(text), false, nil
		}
		if err != nil {
			return "", false, err
		}
	}
}
