package spec

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/labs"
)

// EmbeddedLabNames lists the labs built into the binary, sorted.
func EmbeddedLabNames() []string {
	files, _ := fs.Glob(labs.FS, "*.yaml") // the pattern is valid, so there is no error
	names := make([]string, len(files))
	for i, file := range files {
		names[i] = strings.TrimSuffix(file, ".yaml")
	}
	slices.Sort(names)
	return names
}

// EmbeddedLab loads a built-in lab by name, with env as LoadLab; an unknown name is errs.Invalid and lists the
// available ones.
func EmbeddedLab(name string, env ...LabEnv) (*Lab, error) {
	names := EmbeddedLabNames()
	if !slices.Contains(names, name) {
		return nil, errs.Invalidf("use one of the built-in labs or the path to a lab file",
			"unknown lab %q; built-in labs: %s", name, strings.Join(names, ", "))
	}
	file := name + ".yaml"
	data, err := labs.FS.ReadFile(file)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "reading built-in lab "+name, "")
	}
	return LoadLab(path.Join("labs", file), data, env...)
}
