package charts

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/ignore"
)

// profilesDir holds each chart's values overlays, one <profile>.yaml per profile.
const profilesDir = "profiles"

// Names returns the bundled charts' names, sorted: every top-level directory of FS
// that holds a Chart.yaml.
func Names() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		// FS is compiled in; a read error here is a broken build, not a user error.
		panic(fmt.Sprintf("charts: reading the embedded charts: %v", err))
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(FS, path.Join(e.Name(), chartutil.ChartfileName)); err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// checkName rejects names that are not bundled charts, naming the ones that are.
func checkName(name string) error {
	if slices.Contains(Names(), name) {
		return nil
	}
	return fmt.Errorf("no bundled chart %q (bundled: %s)", name, strings.Join(Names(), ", "))
}

// Load returns the named bundled chart, read from FS the way Helm reads a chart
// directory (loader.LoadDir): the chart's .helmignore and Helm's default ignore rules
// apply, so profiles/ and tests/ stay out of the chart and of the release record.
// loader.LoadFiles alone would take every file it is given.
func Load(name string) (*chart.Chart, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	rules := ignore.Empty()
	if data, err := fs.ReadFile(FS, path.Join(name, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("chart %s: %s: %w", name, ignore.HelmIgnore, err)
		}
	}
	rules.AddDefaults()

	var files []*loader.BufferedFile
	err := fs.WalkDir(FS, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == name {
			return nil
		}
		rel := strings.TrimPrefix(p, name+"/")
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rules.Ignore(rel, info) {
				return fs.SkipDir
			}
			return nil
		}
		if rules.Ignore(rel, info) {
			return nil
		}
		data, err := fs.ReadFile(FS, p)
		if err != nil {
			return err
		}
		// As loader.LoadDir does: an editor's byte-order mark must not reach the parser.
		data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
		files = append(files, &loader.BufferedFile{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	return c, nil
}

// Profiles returns the profile names the named chart has (lite, full), sorted.
func Profiles(name string) ([]string, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(FS, path.Join(name, profilesDir))
	if err != nil {
		return nil, fmt.Errorf("chart %s has no profiles: %w", name, err)
	}
	var profiles []string
	for _, e := range entries {
		if p, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			profiles = append(profiles, p)
		}
	}
	sort.Strings(profiles)
	return profiles, nil
}

// Profile returns the values overlay of a chart's profile (profiles/<profile>.yaml).
// The installer merges it over the chart's values.yaml, and user overrides over it:
// pass it (or a copy with overrides merged in) as the install's values, which Helm
// coalesces over the chart's defaults.
func Profile(name, profile string) (map[string]any, error) {
	profiles, err := Profiles(name)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(profiles, profile) {
		return nil, fmt.Errorf("chart %s has no profile %q (profiles: %s)", name, profile, strings.Join(profiles, ", "))
	}
	data, err := fs.ReadFile(FS, path.Join(name, profilesDir, profile+".yaml"))
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

// Images returns the container images the named chart runs with its default values,
// as references (repository:tag, or repository:tag@digest when pinned), sorted. They
// come from the images section of the chart's values.yaml, the one place a bundled
// chart names an image; `lab pull` prints or pre-loads them.
func Images(name string) ([]string, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(FS, path.Join(name, chartutil.ValuesfileName))
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
