package app

import (
	"os"
	"path/filepath"
	"testing"
)

// The CLI reference is generated; this fails when a flag or help text changed without
// `make docs`.
func TestCLIReferenceIsCurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := WriteCLIReference(dir); err != nil {
		t.Fatal(err)
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	committed, _ := filepath.Glob("../../docs/cli/*.md")
	if len(fresh) != len(committed) {
		t.Fatalf("docs/cli has %d pages, the command tree %d: run `make docs`", len(committed), len(fresh))
	}
	for _, f := range fresh {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join("../../docs/cli", filepath.Base(f)))
		if err != nil || string(got) != string(want) {
			t.Errorf("docs/cli/%s is out of date: run `make docs`", filepath.Base(f))
		}
	}
}
