package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// makeBundle writes a small valid bundle: a node image, two images and an upstream
// chart, each archive holding its own bytes.
func makeBundle(t *testing.T) (string, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	write := func(archive, content string) (string, int64) {
		file := filepath.Join(dir, filepath.FromSlash(archive))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum, size, err := FileDigest(file)
		if err != nil {
			t.Fatal(err)
		}
		return sum, size
	}
	image := func(ref string, stacks ...string) Image {
		archive := ImageArchive(ref)
		sum, size := write(archive, "archive of "+ref)
		return Image{Ref: ref, Stacks: stacks, Archive: archive, SHA256: sum, Size: size,
			ImageID: "sha256:" + strings.Repeat("a", 64), Source: "pulled from " + Registry(ref)}
	}
	chartArchive := ChartArchive("redis", "1.2.3")
	chartSum, chartSize := write(chartArchive, "chart")
	m := &Manifest{
		FormatVersion: FormatVersion, LabVersion: "v0.9.0", CreatedAt: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC),
		Lab: "default", Profile: "lite", KubernetesVersion: "v1.36.4",
		NodeImage: image("kindest/node:v1.36.4@sha256:" + strings.Repeat("b", 64)),
		Images:    []Image{image("quay.io/prometheus/prometheus:v2.53.4", "monitoring"), image("ghcr.io/stefanprodan/podinfo:6.9.2", "demo-shop")},
		Charts: []Chart{
			{Stack: "monitoring", Chart: "monitoring", Version: "0.1.0", Source: "bundled"},
			{Stack: "cache", Chart: "redis", Version: "1.2.3", Source: "https://charts.example", Digest: "sha256:" + chartSum, Archive: chartArchive, SHA256: chartSum, Size: chartSize},
		},
	}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestWriteThenOpenRoundTrips(t *testing.T) {
	t.Parallel()
	dir, want := makeBundle(t)
	got, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.NodeImage, want.NodeImage) || len(got.Images) != 2 || got.Images[1].Ref != want.Images[1].Ref ||
		got.Charts[1] != want.Charts[1] || !got.CreatedAt.Equal(want.CreatedAt) || got.KubernetesVersion != "v1.36.4" {
		t.Fatalf("read back %+v\nwrote %+v", got, want)
	}
	if img, ok := got.Image("quay.io/prometheus/prometheus:v2.53.4"); !ok || img.Stacks[0] != "monitoring" {
		t.Errorf("Image(prometheus) = %+v, %v", img, ok)
	}
	if got.TotalSize() <= 0 {
		t.Errorf("TotalSize = %d", got.TotalSize())
	}
	// No temporary file is left next to the manifest.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// Each way a copied bundle can be broken is refused as invalid input (exit 2), naming
// the file.
func TestVerifyRefusesBrokenArchives(t *testing.T) {
	t.Parallel()
	prom := ImageArchive("quay.io/prometheus/prometheus:v2.53.4")
	for _, tc := range []struct {
		name    string
		breakIt func(t *testing.T, dir string, m *Manifest)
		want    []string
	}{
		{"missing archive", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.Remove(filepath.Join(dir, prom)))
		}, []string{prom, "is missing", "image quay.io/prometheus/prometheus:v2.53.4"}},
		{"wrong size", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.WriteFile(filepath.Join(dir, prom), []byte("short"), 0o644))
		}, []string{prom, "is 5 bytes, the manifest says", "incomplete or corrupt"}},
		{"wrong sha256, same size", func(t *testing.T, dir string, m *Manifest) {
			file := filepath.Join(dir, prom)
			data, err := os.ReadFile(file)
			must(t, err)
			data[0] ^= 0xff
			must(t, os.WriteFile(file, data, 0o644))
		}, []string{prom, "has sha256", "the archive is corrupt"}},
		{"missing node image", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.Remove(filepath.Join(dir, m.NodeImage.Archive)))
		}, []string{"kindest_node_v1.36.4_sha256_", "is missing", "node image kindest/node:v1.36.4@"}},
		{"missing chart", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.Remove(filepath.Join(dir, "charts", "redis-1.2.3.tgz")))
		}, []string{"redis-1.2.3.tgz", "is missing", "chart redis 1.2.3"}},
		{"two broken archives are both named", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.Remove(filepath.Join(dir, prom)))
			must(t, os.Remove(filepath.Join(dir, m.Images[1].Archive)))
		}, []string{"has 2 bad archives", prom, "podinfo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, m := makeBundle(t)
			tc.breakIt(t, dir, m)
			_, err := Open(dir)
			assertInvalid(t, err, tc.want...)
		})
	}
}

// A manifest that cannot be trusted is refused before any archive is read.
func TestReadRefusesBadManifests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		manifest string // "" leaves no manifest
		want     []string
	}{
		{"no manifest", "", []string{"is not a lab bundle", "no manifest.json"}},
		{"bad JSON at its line", "{\n  \"formatVersion\": 1,\n  \"lab\": \"default\"\n  \"profile\": \"lite\"\n}\n",
			[]string{"manifest.json:4:", "invalid character"}},
		{"wrong type at its line", "{\n  \"formatVersion\": \"one\"\n}\n",
			[]string{"manifest.json:2:", "cannot unmarshal string"}},
		{"unknown formatVersion", `{"formatVersion": 7}`,
			[]string{"formatVersion 7 is not a bundle format this lab reads (it reads 1)"}},
		{"no formatVersion", `{"lab": "default"}`,
			[]string{"formatVersion 0 is not a bundle format"}},
		{"node image without ref", `{"formatVersion": 1, "kubernetesVersion": "v1.36.4", "nodeImage": {}}`,
			[]string{"nodeImage.ref is missing"}},
		{"archive outside the bundle", `{"formatVersion": 1, "kubernetesVersion": "v1.36.4", "nodeImage": {"ref": "n:v1", "imageID": "sha256:x", "archive": "../etc/passwd", "sha256": "` + strings.Repeat("0", 64) + `", "size": 1}}`,
			[]string{`nodeImage.archive "../etc/passwd" is not a clean path inside the bundle`}},
		{"bad sha256", `{"formatVersion": 1, "kubernetesVersion": "v1.36.4", "nodeImage": {"ref": "n:v1", "imageID": "sha256:x", "archive": "images/n.tar", "sha256": "abc", "size": 1}}`,
			[]string{`nodeImage.sha256 "abc" is not a sha256 in hex`}},
		{"image without size", `{"formatVersion": 1, "kubernetesVersion": "v1.36.4", "nodeImage": {"ref": "n:v1", "imageID": "sha256:x", "archive": "images/n.tar", "sha256": "` + strings.Repeat("0", 64) + `", "size": 1},
 "images": [{"ref": "i:v1", "imageID": "sha256:y", "archive": "images/i.tar", "sha256": "` + strings.Repeat("0", 64) + `"}]}`,
			[]string{"images[0].size 0 is not a file size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tc.manifest != "" {
				must(t, os.WriteFile(filepath.Join(dir, ManifestFile), []byte(tc.manifest), 0o644))
			}
			_, err := Read(dir)
			assertInvalid(t, err, tc.want...)
		})
	}
}

func TestNamesAndVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{ImageArchive("quay.io/prometheus/prometheus:v2.53.4"), "images/quay.io_prometheus_prometheus_v2.53.4.tar"},
		{ImageArchive("kindest/node:v1.36.4@sha256:09"), "images/kindest_node_v1.36.4_sha256_09.tar"},
		{ChartArchive("redis", "1.2.3"), "charts/redis-1.2.3.tgz"},
		{Registry("quay.io/prometheus/prometheus:v2.53.4"), "quay.io"},
		{Registry("localhost:5000/x:1"), "localhost:5000"},
		{Registry("grafana/grafana:11.6.1"), "docker.io"},
		{Registry("redis:7"), "docker.io"},
		{WithoutDigest("kindest/node:v1.36.4@sha256:09"), "kindest/node:v1.36.4"},
		{Tag("kindest/node:v1.36.4@sha256:09"), "v1.36.4"},
		{Tag("localhost:5000/node"), ""},
		{LocalRef("kindest/node:v1.36.4@sha256:09"), "kindest/node:v1.36.4"},
		{LocalRef("localhost:5000/node@sha256:09"), "localhost:5000/node:bundle"},
		{LocalRef("redis:7"), "redis:7"},
		{FormatSize(512), "512 B"},
		{FormatSize(98 << 20), "98.0 MiB"},
		{FormatSize(3 << 29), "1.5 GiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		want, have string
		ok         bool
	}{
		{"", "v1.36.4", true},
		{"v1.36", "v1.36.4", true},
		{"1.36.x", "v1.36.4", true},
		{"v1.36.4", "v1.36.4", true},
		{"v1.36.3", "v1.36.4", false},
		{"v1.35", "v1.36.4", false},
		{"v1.36", "nonsense", false},
	} {
		if got := VersionMatches(tc.want, tc.have); got != tc.ok {
			t.Errorf("VersionMatches(%q, %q) = %v, want %v", tc.want, tc.have, got, tc.ok)
		}
	}
}

func assertInvalid(t *testing.T, err error, want ...string) {
	t.Helper()
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("err = %v, want invalid input (exit 2)", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if errs.HintOf(err) == "" {
		t.Errorf("error %q has no hint", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
