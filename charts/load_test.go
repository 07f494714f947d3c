package charts_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

func TestNames(t *testing.T) {
	t.Parallel()
	if got, want := Names(), []string{"delivery", "demo-shop", "monitoring"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

// fileNames lists every file of a loaded chart: templates, values, schema, others.
func fileNames(c *chart.Chart) []string {
	var names []string
	for _, f := range c.Raw {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

// TestLoadMatchesHelmLoadDir: a chart loaded from the embedded FS is the chart Helm
// loads from the directory (same files, byte for byte, same metadata and values), so
// what the tests and `helm install ./charts/<name>` see is what lab installs; the
// .helmignore keeps profiles and tests out, and go:embed's all: keeps _helpers.tpl in.
func TestLoadMatchesHelmLoadDir(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			embedded, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			disk, err := loader.LoadDir(name)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fileNames(embedded), fileNames(disk); !slices.Equal(got, want) {
				t.Fatalf("embedded files %v\nLoadDir files  %v", got, want)
			}
			for _, f := range disk.Raw {
				i := slices.IndexFunc(embedded.Raw, func(e *chart.File) bool { return e.Name == f.Name })
				if string(embedded.Raw[i].Data) != string(f.Data) {
					t.Errorf("%s differs between the embedded FS and the directory", f.Name)
				}
			}
			if embedded.Metadata.Name != name || embedded.Metadata.Version != disk.Metadata.Version {
				t.Errorf("metadata %+v", embedded.Metadata)
			}
			if len(embedded.Schema) == 0 {
				t.Error("no values.schema.json")
			}
			files := fileNames(embedded)
			if !slices.Contains(files, "templates/_helpers.tpl") {
				t.Errorf("templates/_helpers.tpl missing: %v", files)
			}
			for _, f := range files {
				if strings.HasPrefix(f, "profiles/") || strings.HasPrefix(f, "tests/") {
					t.Errorf("%s is in the chart; .helmignore should keep it out", f)
				}
			}
		})
	}
}

func TestLoadUnknownChart(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "nope", "monitoring/templates", "../charts", "."} {
		if _, err := Load(name); err == nil || !strings.Contains(err.Error(), "bundled") {
			t.Errorf("Load(%q): err %v, want one naming the bundled charts", name, err)
		}
	}
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		got, err := Profiles(name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"full", "lite"}) {
			t.Errorf("%s profiles %v, want [full lite]", name, got)
		}
		for _, p := range got {
			vals, err := Profile(name, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(vals) == 0 {
				t.Errorf("%s profile %s is empty", name, p)
			}
		}
	}
	cases := []struct{ chart, profile, wantErr string }{
		{"monitoring", "huge", `no profile "huge" (profiles: full, lite)`},
		{"nope", "lite", `no bundled chart "nope"`},
	}
	for _, tc := range cases {
		if _, err := Profile(tc.chart, tc.profile); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Profile(%q, %q): err %v, want %q", tc.chart, tc.profile, err, tc.wantErr)
		}
	}
	// Values decode as Helm decodes them: nested maps, numbers as float64.
	vals, err := Profile("monitoring", "full")
	if err != nil {
		t.Fatal(err)
	}
	prom, ok := vals["prometheus"].(map[string]any)
	if !ok || prom["replicas"] != float64(1) || prom["retention"] != "7d" {
		t.Errorf("full profile prometheus values %#v", vals["prometheus"])
	}
}

// TestImages: every chart lists its images, pinned by a tag (never latest), and the
// list is exactly the set of images its workloads run, in both profiles.
func TestImages(t *testing.T) {
	t.Parallel()
	pinned := regexp.MustCompile(`^[a-z0-9.-]+(/[a-z0-9._-]+)+:[A-Za-z0-9._-]+(@sha256:[a-f0-9]{64})?$`)
	for _, name := range Names() {
		images, err := Images(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s images: %v", name, images)
		for _, ref := range images {
			if !pinned.MatchString(ref) || strings.Contains(ref, ":latest") {
				t.Errorf("%s: image %q is not a fully qualified reference pinned by tag", name, ref)
			}
		}
		for _, profile := range profilesUnderTest {
			used := map[string]bool{}
			for _, w := range render(t, name, profile, name, nil).workloads(t, 1) {
				for _, c := range append(w.template.Spec.InitContainers, w.template.Spec.Containers...) {
					used[c.Image] = true
					if !slices.Contains(images, c.Image) {
						t.Errorf("%s (%s): %s %s runs %s, which Images does not list", name, profile, w.kind, w.name, c.Image)
					}
				}
			}
			for _, ref := range images {
				if !used[ref] {
					t.Errorf("%s (%s): listed image %s is not used", name, profile, ref)
				}
			}
		}
	}
	if _, err := Images("nope"); err == nil {
		t.Error("Images of an unknown chart succeeded")
	}
}

// TestImageDigest: a digest in values pins the reference the workloads run.
func TestImageDigest(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("ab", 32)
	ws := render(t, "demo-shop", "lite", "demo-shop", values("images.podinfo.digest", digest)).workloads(t, 1)
	got := container(t, findWorkload(t, ws, "Deployment", "frontend"), "podinfo").Image
	if want := "ghcr.io/stefanprodan/podinfo:6.9.2@" + digest; got != want {
		t.Errorf("image %s, want %s", got, want)
	}
}
