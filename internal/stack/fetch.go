package stack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/state"
)

// Source says where charts come from besides the binary.
type Source struct {
	// CacheDir is lab's cache directory (state.CacheHome()); upstream charts are kept in
	// its charts/ subdirectory as <name>-<version>.tgz.
	CacheDir string
	// Offline uses the cache only; a chart missing from it is an error naming it.
	Offline bool
	// Getters fetch over http(s) and oci; nil means Helm's own.
	Getters getter.Providers
}

// loaded is a chart ready to install, with where it came from.
type loaded struct {
	chart *chart.Chart
	// digest is the sha256 of an upstream chart's archive; empty for bundled charts.
	digest string
	// cached is true when an upstream chart came from the cache rather than the network.
	cached bool
}

// errMissing is an upstream chart that is not in the cache of an offline run.
type errMissing struct{ name, version string }

func (e *errMissing) Error() string { return e.name + "-" + e.version }

// load returns the chart of c: from the binary, or from the cache, or fetched, verified
// and cached.
func (cat *Catalog) load(c Chart, src Source) (*loaded, error) {
	if c.Bundled() {
		if cat.Bundled == nil {
			return nil, fmt.Errorf("chart %s is bundled but this catalog has no bundled charts", c.Name)
		}
		ch, err := cat.Bundled(c.Name)
		if err != nil {
			return nil, fmt.Errorf("loading bundled chart %s: %w", c.Name, err)
		}
		return &loaded{chart: ch}, nil
	}
	return fetchUpstream(c, src)
}

// CachePath is where the cache keeps an upstream chart.
func (src Source) CachePath(c Chart) string {
	return filepath.Join(src.CacheDir, "charts", c.Name+"-"+c.Version+".tgz")
}

func fetchUpstream(c Chart, src Source) (*loaded, error) {
	want := normalDigest(c.Digest)
	if want == "" || c.Version == "" {
		return nil, fmt.Errorf("stack catalog: upstream chart %s must pin a version and a sha256 digest", c.Name)
	}
	path := src.CachePath(c)
	if data, err := os.ReadFile(path); err == nil && sha256Hex(data) == want {
		return loadArchive(c, data, want, true)
	}
	// A cached file that does not match is damaged: it is fetched again, or, offline,
	// reported missing.
	if src.Offline {
		return nil, &errMissing{name: c.Name, version: c.Version}
	}
	data, url, err := download(c, src)
	if err != nil {
		return nil, err
	}
	if got := sha256Hex(data); got != want {
		return nil, errs.New(errs.Unavailable,
			fmt.Sprintf("chart %s %s from %s has digest sha256:%s, but lab pins sha256:%s: refused", c.Name, c.Version, url, got, want),
			"the repository serves a different archive than the one lab was built with; do not install it. If the chart was republished on purpose, the catalog's digest must be updated")
	}
	if err := state.WriteFileAtomic(path, data, 0o644); err != nil {
		return nil, fmt.Errorf("caching chart %s: %w", c.Name, err)
	}
	return loadArchive(c, data, want, false)
}

func loadArchive(c Chart, data []byte, digest string, cached bool) (*loaded, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading chart %s %s: %w", c.Name, c.Version, err)
	}
	if ch.Metadata.Version != c.Version {
		return nil, fmt.Errorf("chart %s: archive says version %s, the catalog pins %s", c.Name, ch.Metadata.Version, c.Version)
	}
	return &loaded{chart: ch, digest: digest, cached: cached}, nil
}

// download fetches the chart archive with Helm's getters: from an OCI registry by
// reference and tag, or from a chart repository through its index.
func download(c Chart, src Source) ([]byte, string, error) {
	getters := src.Getters
	if getters == nil {
		getters = getter.Getters()
	}
	url, err := chartURL(c, src, getters)
	if err != nil {
		return nil, "", err
	}
	scheme := url[:max(strings.Index(url, "://"), 0)]
	g, err := getters.ByScheme(scheme)
	if err != nil {
		return nil, url, fmt.Errorf("fetching chart %s: %w", c.Name, err)
	}
	buf, err := g.Get(url)
	if err != nil {
		return nil, url, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("fetching chart %s %s from %s", c.Name, c.Version, url),
			"check the network, or run `lab pull` where the network works and use `--offline` here")
	}
	return buf.Bytes(), url, nil
}

// chartURL is where the archive is: the OCI reference with the version as tag, or the
// URL the repository's index gives.
func chartURL(c Chart, src Source, getters getter.Providers) (string, error) {
	if c.OCI() {
		return strings.TrimSuffix(c.Repo, "/") + ":" + c.Version, nil
	}
	// The index is read into a private temporary dir, never into Helm's own cache.
	if err := os.MkdirAll(src.CacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(src.CacheDir, ".index-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	r, err := repo.NewChartRepository(&repo.Entry{Name: "lab", URL: c.Repo}, getters)
	if err != nil {
		return "", fmt.Errorf("chart repository %s: %w", c.Repo, err)
	}
	r.CachePath = tmp
	indexPath, err := r.DownloadIndexFile()
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "reading the index of chart repository "+c.Repo,
			"check the network, or run `lab pull` where the network works and use `--offline` here")
	}
	index, err := repo.LoadIndexFile(indexPath)
	if err != nil {
		return "", fmt.Errorf("chart repository %s: %w", c.Repo, err)
	}
	cv, err := index.Get(c.Name, c.Version)
	if err != nil || len(cv.URLs) == 0 {
		return "", errs.New(errs.Unavailable, fmt.Sprintf("chart repository %s has no chart %s %s", c.Repo, c.Name, c.Version), "")
	}
	return repo.ResolveReferenceURL(c.Repo, cv.URLs[0])
}

// missingError reports every chart an offline run lacks, at once.
func missingError(missing []*errMissing) error {
	names := make([]string, len(missing))
	for i, m := range missing {
		names[i] = m.Error()
	}
	return errs.New(errs.Unavailable,
		"offline, and these charts are not in lab's cache: "+strings.Join(names, ", "),
		"run `lab pull` (with the same --lab or -f) on a machine with network access to this cache, then `lab up --offline` again")
}

func asMissing(err error) (*errMissing, bool) {
	var m *errMissing
	return m, errors.As(err, &m)
}

func normalDigest(d string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "sha256:"))
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
