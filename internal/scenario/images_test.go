package scenario

import (
	"io/fs"
	"regexp"
	"slices"
	"testing"
)

// Image references as the scenarios' files write them: after image: in a manifest or
// a command (--image=, podinfo=), and as repository plus tag in a chart's values.
var (
	imageInText   = regexp.MustCompile(`(?:image:\s*"?|--image=|=)((?:[a-z0-9.-]+\.[a-z]+/)?[a-z0-9._/-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*)`)
	chartImageRef = regexp.MustCompile(`(?m)^\s*repository:\s*(\S+)\s*\n\s*tag:\s*"?([A-Za-z0-9_.-]+)"?`)
)

// TestBundledScenariosDeclareTheirImages: every image a bundled scenario's files run
// is in its spec.images (which `lab pull --bundle` carries), and nothing else is, so
// an offline lab never meets an image it cannot pull.
func TestBundledScenariosDeclareTheirImages(t *testing.T) {
	t.Parallel()
	cat, err := Embedded(Validation{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cat.Scenarios {
		t.Run(s.Metadata.Name, func(t *testing.T) {
			t.Parallel()
			found := map[string]string{}
			err := fs.WalkDir(s.Files, ".", func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := fs.ReadFile(s.Files, path)
				if err != nil {
					return err
				}
				for _, m := range imageInText.FindAllStringSubmatch(string(data), -1) {
					if !isTemplate(m[1]) {
						found[m[1]] = path
					}
				}
				for _, m := range chartImageRef.FindAllStringSubmatch(string(data), -1) {
					found[m[1]+":"+m[2]] = path
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for img, path := range found {
				if !slices.Contains(s.Spec.Images, img) {
					t.Errorf("%s runs %s, which spec.images does not list", path, img)
				}
			}
			for _, img := range s.Spec.Images {
				if _, ok := found[img]; !ok {
					t.Errorf("spec.images lists %s, which none of the scenario's files runs", img)
				}
			}
		})
	}
}

func isTemplate(s string) bool { return regexp.MustCompile(`[{}]`).MatchString(s) }
