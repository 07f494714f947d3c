package spec

import (
	"errors"
	"io/fs"
	"os"

	"github.com/cloudnativelab/lab/internal/errs"
)

// checksHint follows every list of problems in a checks file.
const checksHint = "docs/grading.md describes every field of a checks file, with an example of each check type"

// LoadChecks reads a checks file strictly, applies defaults and validates it; PromQL
// expressions are parsed now. The error lists every problem as file:line: field: message
// and is an errs.Invalid wrapping an ErrorList.
func LoadChecks(file string, data []byte) (*Checks, error) {
	var checks Checks
	src, err := DecodeVersioned(file, data, APIVersion, KindChecks, &checks)
	if src == nil {
		return nil, err
	}
	src.Hint = checksHint
	rejectExplicitZeros(src, "spec.checks", checks.Spec.Checks)
	for i := range checks.Spec.Checks {
		checks.Spec.Checks[i].Default()
	}
	validateName(src, "metadata.name", checks.Metadata.Name)
	validateChecks(src, "spec.checks", checks.Spec.Checks)
	if err := src.Err(); err != nil {
		return nil, err
	}
	return &checks, nil
}

// LoadChecksFile is LoadChecks for a file on disk.
func LoadChecksFile(path string) (*Checks, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Invalidf("check the path", "checks file %s does not exist", path)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read checks file", "")
	}
	return LoadChecks(path, data)
}

// rejectExplicitZeros reports "timeout: 0s" and the like written in the file, before
// Default turns the zero of an omitted field into its default.
func rejectExplicitZeros(src *Source, path string, checks []Check) {
	for i, c := range checks {
		checkPath := indexPath(path, i)
		for _, f := range []struct {
			name string
			zero bool
			want string
		}{
			{"points", c.Points == 0, "between 1 and 1000 (leave points out for 1)"},
			{"timeout", c.Timeout == 0, "a positive duration (leave timeout out for 30s)"},
			{"interval", c.Interval == 0, "a positive duration (leave interval out for 2s)"},
			{"consecutive", c.Consecutive == 0, "between 1 and 100 (leave consecutive out for 1)"},
			{"http.status", c.HTTP != nil && c.HTTP.Status == 0, "an HTTP status code (leave status out for 200)"},
		} {
			if f.zero && src.Has(checkPath+"."+f.name) {
				src.Addf(checkPath+"."+f.name, "must be %s, got 0", f.want)
			}
		}
	}
}
