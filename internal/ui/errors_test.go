package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
)

func TestPrintErrorGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		err    error
	}{
		{
			golden: "error_hint",
			err: fmt.Errorf("starting lab web: %w", errs.Wrap(errs.Unavailable, errors.New("connection refused"),
				"cannot reach Docker", "start Docker Desktop, or use provider: sim")),
		},
		{
			golden: "error_multiline",
			err: errs.Invalidf("fix the lines above and run lab up again",
				"labs/web.yaml has 2 problems:\nlabs/web.yaml:3: unknown field \"nodez\"\nlabs/web.yaml:7: replicas must be at least 1\n"),
		},
		{golden: "error_plain", err: errors.New("something broke")},
		{golden: "error_nil", err: nil},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			ios, _, out, errOut := Test()
			ios.PrintError(tt.err)
			if out.Len() != 0 {
				t.Errorf("error went to stdout: %q", out)
			}
			assertGolden(t, tt.golden, errOut.Bytes())
		})
	}
}

func TestPrintErrorIsRedOnlyOnAColourTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tty, color bool
		want       bool
	}{
		{name: "colour terminal", tty: true, color: true, want: true},
		{name: "NO_COLOR", tty: true, color: false, want: false},
		{name: "redirected", tty: false, color: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _, errOut := Test()
			ios.ErrIsTTY, ios.Color = tt.tty, tt.color
			ios.PrintError(errs.New(errs.Internal, "boom", "retry"))
			if got := strings.Contains(errOut.String(), "\x1b[31"); got != tt.want {
				t.Errorf("red = %v, want %v in %q", got, tt.want, errOut)
			}
			if got := sgr.ReplaceAllString(errOut.String(), ""); got != "Error: boom\nHint: retry\n" {
				t.Errorf("text is %q", got)
			}
		})
	}
}
