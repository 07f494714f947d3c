package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
)

// FuzzLoadChecks checks that no input makes LoadChecks panic (the PromQL parser
// included), and that every error keeps the package's contract: errs.Invalid, an
// ErrorList, one file:line: per line.
func FuzzLoadChecks(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/checks/*/*.yaml")
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checks, err := LoadChecks("fuzz.yaml", data)
		if err == nil {
			if checks == nil || len(checks.Spec.Checks) == 0 {
				t.Fatal("no checks and no error")
			}
			for _, c := range checks.Spec.Checks {
				if c.Type() == "" {
					t.Fatalf("check %q accepted without exactly one type", c.ID)
				}
			}
			if verr := ValidateChecks("spec.checks", checks.Spec.Checks); verr != nil {
				t.Fatalf("LoadChecks accepted checks that ValidateChecks rejects: %v", verr)
			}
			return
		}
		if errs.KindOf(err) != errs.Invalid {
			t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
		}
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("error without an ErrorList: %v", err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !errorLine.MatchString(line) {
				t.Fatalf("error line %q is not file:line: message", line)
			}
		}
	})
}
