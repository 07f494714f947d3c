// Package bundle is the format of an offline bundle: a directory that `lab pull
// --bundle DIR` fills on a machine with network (the kind node image and every image
// of a lab's stacks as `docker save` archives, the upstream charts) and that `lab up
// --bundle DIR` brings a lab up from without any registry. This package reads, verifies
// and writes the bundle's manifest; it runs no Docker (the kind provider does).
//
// Layout:
//
//	DIR/manifest.json          written last, atomically
//	DIR/images/<name>.tar      one `docker save` archive per image
//	DIR/charts/<name>-<v>.tgz  upstream charts, laid out like lab's chart cache
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/state"
)

// FormatVersion is the manifest format this lab writes and reads.
const FormatVersion = 1

// Files and directories of a bundle.
const (
	ManifestFile = "manifest.json"
	ImagesDir    = "images"
	ChartsDir    = "charts"
)

// Image labels lab reads when it packs an image.
const (
	// LabelSource says where an image comes from ("rebuilt from source: ..."); without
	// it an image's source is "pulled from <registry>".
	LabelSource = "io.cloudnativelab.lab.source"
	// LabelKubernetesVersion is the Kubernetes version of a node image; without it the
	// version is read from the image's tag (kindest/node:v1.36.4).
	LabelKubernetesVersion = "io.cloudnativelab.lab.kubernetes-version"
)

// Manifest describes a bundle: what it holds, for which lab, and the sha256 and size
// of every archive so that a copy can be verified before it is used.
type Manifest struct {
	FormatVersion int       `json:"formatVersion"`
	LabVersion    string    `json:"labVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	// Lab and Profile are the lab definition and profile the bundle was made for.
	Lab     string `json:"lab"`
	Profile string `json:"profile"`
	// KubernetesVersion is the node image's exact version (v1.36.4).
	KubernetesVersion string  `json:"kubernetesVersion"`
	NodeImage         Image   `json:"nodeImage"`
	Images            []Image `json:"images"`
	Charts            []Chart `json:"charts"`
}

// Image is one image archive.
type Image struct {
	// Ref is the image reference as the lab names it (the chart's, or kind's node image).
	Ref string `json:"ref"`
	// Stacks run the image (empty for the node image).
	Stacks []string `json:"stacks,omitempty"`
	// Archive is the archive's path in the bundle, slash-separated (images/<name>.tar).
	Archive string `json:"archive"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	// ImageID is Docker's image ID (the config digest), which a docker load and a
	// containerd import keep.
	ImageID string `json:"imageID"`
	// Source is the image's LabelSource, or "pulled from <registry>".
	Source string `json:"source"`
}

// Chart is one chart of the lab's stacks. Bundled charts are in the lab binary and
// have no archive; upstream charts are copied from lab's cache.
type Chart struct {
	Stack   string `json:"stack"`
	Chart   string `json:"chart"`
	Version string `json:"version"`
	// Source is "bundled" or the chart repository.
	Source string `json:"source"`
	// Digest is the sha256 lab pins for an upstream chart.
	Digest  string `json:"digest,omitempty"`
	Archive string `json:"archive,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// archive is one file the manifest names, with what it is for messages.
type archive struct {
	what, path, sha256 string
	size               int64
}

// archives lists every file of the bundle the manifest names.
func (m *Manifest) archives() []archive {
	out := []archive{{what: "node image " + m.NodeImage.Ref, path: m.NodeImage.Archive, sha256: m.NodeImage.SHA256, size: m.NodeImage.Size}}
	for _, img := range m.Images {
		out = append(out, archive{what: "image " + img.Ref, path: img.Archive, sha256: img.SHA256, size: img.Size})
	}
	for _, c := range m.Charts {
		if c.Archive != "" {
			out = append(out, archive{what: "chart " + c.Chart + " " + c.Version, path: c.Archive, sha256: c.SHA256, size: c.Size})
		}
	}
	return out
}

// Image returns the bundle's image with a reference, if it has one.
func (m *Manifest) Image(ref string) (Image, bool) {
	for _, img := range m.Images {
		if img.Ref == ref {
			return img, true
		}
	}
	return Image{}, false
}

// TotalSize is the size of every archive of the bundle.
func (m *Manifest) TotalSize() int64 {
	var n int64
	for _, a := range m.archives() {
		n += a.size
	}
	return n
}

const remakeHint = "copy the bundle again from the machine that made it, or make it again there with `lab pull --bundle DIR`"

// Read reads and checks the manifest of the bundle in dir (not the archives: see
// Verify). Every problem is an *errs.Error of kind Invalid naming the file, and the
// line for bad JSON.
func Read(dir string) (*Manifest, error) {
	file := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Invalidf("make a bundle with `lab pull --bundle "+dir+"` on a machine with network",
			"%s is not a lab bundle: it has no %s", dir, ManifestFile)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read the bundle's manifest", "")
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errs.Invalidf(remakeHint, "%s", jsonError(file, data, err))
	}
	if m.FormatVersion != FormatVersion {
		return nil, errs.Invalidf("make the bundle again with this version of lab (`lab pull --bundle DIR`)",
			"%s: formatVersion %d is not a bundle format this lab reads (it reads %d)", file, m.FormatVersion, FormatVersion)
	}
	if err := m.check(); err != nil {
		return nil, errs.Invalidf(remakeHint, "%s: %v", file, err)
	}
	return &m, nil
}

// jsonError places a JSON error at its line.
func jsonError(file string, data []byte, err error) string {
	var offset int64 = -1
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 {
		return fmt.Sprintf("%s: %v", file, err)
	}
	line := 1 + bytes.Count(data[:min(int(offset), len(data))], []byte("\n"))
	return fmt.Sprintf("%s:%d: %v", file, line, err)
}

// check validates the fields every archive needs.
func (m *Manifest) check() error {
	if err := checkImage("nodeImage", m.NodeImage); err != nil {
		return err
	}
	if m.KubernetesVersion == "" {
		return errors.New("kubernetesVersion is missing")
	}
	for i, img := range m.Images {
		if err := checkImage(fmt.Sprintf("images[%d]", i), img); err != nil {
			return err
		}
	}
	for i, c := range m.Charts {
		if c.Archive == "" {
			continue
		}
		if err := checkArchive(fmt.Sprintf("charts[%d]", i), c.Archive, c.SHA256, c.Size); err != nil {
			return err
		}
	}
	return nil
}

func checkImage(field string, img Image) error {
	if img.Ref == "" {
		return fmt.Errorf("%s.ref is missing", field)
	}
	if img.ImageID == "" {
		return fmt.Errorf("%s.imageID is missing (image %s)", field, img.Ref)
	}
	return checkArchive(field, img.Archive, img.SHA256, img.Size)
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func checkArchive(field, archive, sum string, size int64) error {
	switch {
	case archive == "":
		return fmt.Errorf("%s.archive is missing", field)
	case path.IsAbs(archive) || path.Clean(archive) != archive || strings.HasPrefix(archive, "../") || strings.Contains(archive, `\`):
		return fmt.Errorf("%s.archive %q is not a clean path inside the bundle", field, archive)
	case !sha256Hex.MatchString(sum):
		return fmt.Errorf("%s.sha256 %q is not a sha256 in hex", field, sum)
	case size <= 0:
		return fmt.Errorf("%s.size %d is not a file size", field, size)
	}
	return nil
}

// Verify checks every archive the manifest names against its size and sha256. All
// the files that are missing or differ are named in one *errs.Error of kind Invalid.
func Verify(dir string, m *Manifest) error {
	var bad []string
	for _, a := range m.archives() {
		if problem := verifyArchive(dir, a); problem != "" {
			bad = append(bad, problem)
		}
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return errs.Invalidf(remakeHint, "bundle %s: %s", dir, bad[0])
	default:
		return errs.Invalidf(remakeHint, "bundle %s has %d bad archives:\n  %s", dir, len(bad), strings.Join(bad, "\n  "))
	}
}

func verifyArchive(dir string, a archive) string {
	file := filepath.Join(dir, filepath.FromSlash(a.path))
	info, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s is missing (%s)", file, a.what)
	case err != nil:
		return fmt.Sprintf("%s cannot be read (%s): %v", file, a.what, err)
	case info.Size() != a.size:
		return fmt.Sprintf("%s is %d bytes, the manifest says %d (%s): the copy is incomplete or corrupt", file, info.Size(), a.size, a.what)
	}
	sum, _, err := FileDigest(file)
	switch {
	case err != nil:
		return fmt.Sprintf("%s cannot be read (%s): %v", file, a.what, err)
	case sum != a.sha256:
		return fmt.Sprintf("%s has sha256 %s, the manifest says %s (%s): the archive is corrupt", file, sum, a.sha256, a.what)
	}
	return ""
}

// Open reads the manifest of the bundle in dir and verifies every archive.
func Open(dir string) (*Manifest, error) {
	m, err := Read(dir)
	if err != nil {
		return nil, err
	}
	if err := Verify(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// Write writes the manifest into dir atomically: a reader sees the old manifest or
// the new one, and a bundle whose archives are still being written has the old one
// (or none).
func Write(dir string, m *Manifest) error {
	return state.WriteJSON(filepath.Join(dir, ManifestFile), m, 0o644)
}

// FileDigest is the sha256 (hex) and size of a file, read as a stream.
func FileDigest(file string) (string, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ImageArchive is the archive path (slash-separated, relative to the bundle) of an
// image reference: images/quay.io_prometheus_prometheus_v2.53.4.tar.
func ImageArchive(ref string) string {
	return ImagesDir + "/" + unsafeChars.ReplaceAllString(ref, "_") + ".tar"
}

// ChartArchive is the archive path of an upstream chart, where lab's chart cache
// keeps it too, so that the bundle directory serves as a chart cache.
func ChartArchive(name, version string) string {
	return ChartsDir + "/" + name + "-" + version + ".tgz"
}

// Registry is the registry a reference pulls from (docker.io when it names none).
func Registry(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
}

// WithoutDigest drops the @sha256:... part of a reference. A docker load keeps the
// image's tags but not its registry digests, so loaded images are found by tag.
func WithoutDigest(ref string) string {
	name, _, _ := strings.Cut(ref, "@")
	return name
}

// LocalRef is the reference an image of the bundle is saved and loaded under: the
// reference without its digest (a docker load restores tags, not registry digests),
// with the tag "bundle" when it has no other.
func LocalRef(ref string) string {
	local := WithoutDigest(ref)
	if Tag(local) == "" {
		local += ":bundle"
	}
	return local
}

// Tag is the tag of a reference ("v1.36.4" of kindest/node:v1.36.4@sha256:...), or "".
func Tag(ref string) string {
	name := WithoutDigest(ref)
	slash := strings.LastIndex(name, "/")
	colon := strings.LastIndex(name, ":")
	if colon <= slash {
		return ""
	}
	return name[colon+1:]
}

var kubeVersion = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+|x))?$`)

// VersionMatches reports whether a bundle of Kubernetes version have (v1.36.4) serves
// a lab asking for want: the same version, or the same minor when want names no patch
// (v1.36, v1.36.x). An empty want matches any.
func VersionMatches(want, have string) bool {
	if want == "" {
		return true
	}
	w, h := kubeVersion.FindStringSubmatch(want), kubeVersion.FindStringSubmatch(have)
	if w == nil || h == nil || w[1] != h[1] || w[2] != h[2] {
		return false
	}
	return w[3] == "" || w[3] == "x" || w[3] == h[3]
}

// IsKubernetesVersion reports whether s reads as a Kubernetes version (v1.36.4).
func IsKubernetesVersion(s string) bool {
	m := kubeVersion.FindStringSubmatch(s)
	return m != nil && m[3] != "" && m[3] != "x"
}

// FormatSize renders a byte count for people (98.2 MiB).
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}
