package charts_test

import (
	"fmt"
	"io/fs"
	"path"
	"sort"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/cloudnativelab/lab/charts"
	"github.com/cloudnativelab/lab/internal/stack"
)

// The charts are loaded as the installer loads them: through internal/stack, which owns
// Helm. These names keep the tests reading as they did when charts loaded itself.
var (
	Names    = charts.Names
	Load     = stack.BundledChart
	Profiles = stack.BundledProfiles
	Profile  = stack.BundledProfile
)

// Images returns the container images the named chart runs with its default values,
// from the images section of its values.yaml (the one place a bundled chart names an
// image), as references (repository:tag, or repository:tag@digest when pinned), sorted.
func Images(name string) ([]string, error) {
	data, err := fs.ReadFile(charts.FS, path.Join(name, chartutil.ValuesfileName))
	if err != nil {
		return nil, err
	}
	vals, err := chartutil.ReadValues(data)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	images, err := vals.Table("images")
	if err != nil {
		return nil, fmt.Errorf("chart %s: values.yaml has no images section: %w", name, err)
	}
	var refs []string
	for key, v := range images {
		img, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("chart %s: images.%s is not a map", name, key)
		}
		repo, _ := img["repository"].(string)
		tag, _ := img["tag"].(string)
		if repo == "" || tag == "" {
			return nil, fmt.Errorf("chart %s: images.%s needs a repository and a tag", name, key)
		}
		ref := repo + ":" + tag
		if digest, _ := img["digest"].(string); digest != "" {
			ref += "@" + digest
		}
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	return refs, nil
}
