package stack

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/cloudnativelab/lab/charts"
)

// profilesDir holds each bundled chart's values overlays, one <profile>.yaml per profile.
const profilesDir = "profiles"

// BundledChart returns the named chart of charts.FS, read as Helm reads a chart folder
// (LoadChartFS): its .helmignore keeps profiles/ and tests/ out of the chart and of the
// release record.
func BundledChart(name string) (*chart.Chart, error) {
	if err := checkBundled(name); err != nil {
		return nil, err
	}
	c, err := LoadChartFS(charts.FS, name)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	return c, nil
}

// checkBundled rejects names that are not bundled charts, naming the ones that are.
func checkBundled(name string) error {
	if slices.Contains(charts.Names(), name) {
		return nil
	}
	return fmt.Errorf("no bundled chart %q (bundled: %s)", name, strings.Join(charts.Names(), ", "))
}

// BundledProfiles returns the profile names the named chart has (lite, full), sorted.
func BundledProfiles(name string) ([]string, error) {
	if err := checkBundled(name); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(charts.FS, path.Join(name, profilesDir))
	if err != nil {
		return nil, fmt.Errorf("chart %s has no profiles: %w", name, err)
	}
	var profiles []string
	for _, e := range entries {
		if p, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			profiles = append(profiles, p)
		}
	}
	slices.Sort(profiles)
	return profiles, nil
}

// BundledProfile returns the values overlay of a chart's profile (profiles/<profile>.yaml).
// The installer merges it over the chart's values.yaml, and user overrides over it.
func BundledProfile(name, profile string) (map[string]any, error) {
	profiles, err := BundledProfiles(name)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(profiles, profile) {
		return nil, fmt.Errorf("chart %s has no profile %q (profiles: %s)", name, profile, strings.Join(profiles, ", "))
	}
	data, err := fs.ReadFile(charts.FS, path.Join(name, profilesDir, profile+".yaml"))
	if err != nil {
		return nil, err
	}
	// chartutil.ReadValues decodes as Helm decodes values files, so numbers and nested
	// maps have the types Helm's coalescing and schema validation expect.
	vals, err := chartutil.ReadValues(data)
	if err != nil {
		return nil, fmt.Errorf("chart %s, profile %s: %w", name, profile, err)
	}
	return vals.AsMap(), nil
}
