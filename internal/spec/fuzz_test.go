package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/labs"
)

// errorLine is the form of every line of a lab error: file:line: then the rest.
var errorLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*: \S`)

// FuzzLoadLab checks that no input makes LoadLab panic, and that every error it returns
// keeps the package's contract: errs.Invalid, an ErrorList, one file:line: per line.
func FuzzLoadLab(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	builtIn, _ := fs.Glob(labs.FS, "*.yaml")
	for _, file := range builtIn {
		data, _ := labs.FS.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lab, err := LoadLab("fuzz.yaml", data)
		if err == nil {
			if lab == nil {
				t.Fatal("no lab and no error")
			}
			if verr := lab.Validate(); verr != nil {
				t.Fatalf("LoadLab accepted a lab that Validate rejects: %v", verr)
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
