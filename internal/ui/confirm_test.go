package ui

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
)

func TestConfirm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tty       bool
		assumeYes bool
		input     string
		want      bool
		wantKind  *errs.Kind // nil: no error
		wantAsked bool
	}{
		{name: "--yes answers without asking", assumeYes: true, want: true},
		{name: "--yes on a terminal", tty: true, assumeYes: true, want: true},
		{name: "no terminal needs --yes", input: "y\n", wantKind: ptr(errs.Invalid)},
		{name: "y", tty: true, input: "y\n", want: true, wantAsked: true},
		{name: "YES with spaces", tty: true, input: "  YES \r\n", want: true, wantAsked: true},
		{name: "empty answer is no", tty: true, input: "\n", wantAsked: true},
		{name: "n", tty: true, input: "n\n", wantAsked: true},
		{name: "anything else is no", tty: true, input: "sure\n", wantAsked: true},
		{name: "end of input is no", tty: true, input: "", wantAsked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, in, out, errOut := Test()
			ios.InIsTTY, ios.ErrIsTTY = tt.tty, tt.tty
			in.WriteString(tt.input)
			got, err := ios.Confirm("Delete lab web?", tt.assumeYes)
			switch {
			case tt.wantKind == nil && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantKind != nil && (err == nil || errs.KindOf(err) != *tt.wantKind):
				t.Fatalf("error %v, want kind %v", err, *tt.wantKind)
			case tt.wantKind != nil && !strings.Contains(errs.HintOf(err), "--yes"):
				t.Errorf("hint %q does not mention --yes", errs.HintOf(err))
			}
			if got != tt.want {
				t.Errorf("Confirm = %v, want %v", got, tt.want)
			}
			if asked := strings.Contains(errOut.String(), "Delete lab web? [y/N] "); asked != tt.wantAsked {
				t.Errorf("asked = %v, want %v (stderr %q)", asked, tt.wantAsked, errOut)
			}
			if out.Len() != 0 {
				t.Errorf("the prompt went to stdout: %q", out)
			}
		})
	}
}

func TestConfirmReadsOnlyItsOwnLine(t *testing.T) {
	t.Parallel()
	ios, in, _, _ := Test()
	ios.InIsTTY, ios.ErrIsTTY = true, true
	in.WriteString("y\nn\n")
	first, _ := ios.Confirm("first?", false)
	second, _ := ios.Confirm("second?", false)
	if !first || second {
		t.Errorf("answers = %v, %v; want true, false", first, second)
	}
}

func TestConfirmReportsAFailedRead(t *testing.T) {
	t.Parallel()
	ios, _, _, _ := Test()
	ios.InIsTTY, ios.ErrIsTTY = true, true
	ios.In = io.MultiReader(strings.NewReader("y"), failingReader{})
	if _, err := ios.Confirm("go?", false); err == nil {
		t.Error("want an error when stdin fails")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

func ptr[T any](v T) *T { return &v }
