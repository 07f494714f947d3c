package stack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

// chartRepo is a real chart repository over HTTP (index.yaml and a .tgz made with
// Helm's own packaging), counting the requests it serves.
type chartRepo struct {
	srv      *httptest.Server
	digest   string
	requests atomic.Int64
}

// newChartRepo packages the web test chart as "upstream" version and serves it.
func newChartRepo(t *testing.T, version string) *chartRepo {
	t.Helper()
	ch, err := loadTestChart("web")
	if err != nil {
		t.Fatal(err)
	}
	ch.Metadata.Version = version
	dir := t.TempDir()
	tgz, err := chartutil.Save(ch, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	r := &chartRepo{digest: sha256Hex(data)}
	files := http.FileServer(http.Dir(dir))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		files.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	index, err := repo.IndexDirectory(dir, r.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func upstreamStack(name, repoURL, version, digest string) Stack {
	return Stack{Name: name, Namespace: name, Timeout: time.Minute,
		Charts: []Chart{{Name: "web", Repo: repoURL, Version: version, Digest: digest}}}
}

func TestUpstreamChartIsVerifiedCachedAndInstalledOffline(t *testing.T) {
	t.Parallel()
	r := newChartRepo(t, "0.3.0")
	cache := t.TempDir()
	cat := &Catalog{Stacks: []Stack{upstreamStack("upstream", r.srv.URL, "0.3.0", "sha256:"+r.digest)}}
	online := newInstaller(t, cat, nil, func(o *Options) { o.Source.CacheDir = cache })
	offline := newInstaller(t, cat, nil, func(o *Options) { o.Source = Source{CacheDir: cache, Offline: true} })
	removeAtEnd(t, online, "upstream")
	ctx := context.Background()

	rels, err := online.Install(ctx, []string{"upstream"})
	if err != nil {
		t.Fatalf("online install: %v", err)
	}
	if rels[0].Version != "0.3.0" || rels[0].ChartDigest != r.digest || rels[0].Action != Installed {
		t.Fatalf("release %+v, want web 0.3.0 installed with digest %s", rels[0], r.digest)
	}
	cached, err := os.ReadFile(filepath.Join(cache, "charts", "web-0.3.0.tgz"))
	if err != nil || sha256Hex(cached) != r.digest {
		t.Fatalf("the chart is not in the cache with its digest (err %v)", err)
	}
	assertPodsRunning(t, "upstream", 1)

	if err := online.Remove(ctx, []string{"upstream"}); err != nil {
		t.Fatal(err)
	}
	served := r.requests.Load()
	r.srv.Close() // offline from here on: any fetch would fail
	rels, err = offline.Install(ctx, []string{"upstream"})
	if err != nil {
		t.Fatalf("offline install from the cache: %v", err)
	}
	if rels[0].Action != Installed || rels[0].ChartDigest != r.digest {
		t.Fatalf("offline release %+v", rels[0])
	}
	if r.requests.Load() != served {
		t.Fatalf("the offline install asked the repository %d times", r.requests.Load()-served)
	}
	assertPodsRunning(t, "upstream", 1)
}

func TestUpstreamChartWithAWrongDigestIsRefused(t *testing.T) {
	t.Parallel()
	r := newChartRepo(t, "0.4.0")
	wrong := strings.Repeat("ab", 32)
	cache := t.TempDir()
	cat := &Catalog{Stacks: []Stack{upstreamStack("wrong-digest", r.srv.URL, "0.4.0", wrong)}}
	in := newInstaller(t, cat, nil, func(o *Options) { o.Source.CacheDir = cache })

	_, err := in.Install(context.Background(), []string{"wrong-digest"})
	if err == nil {
		t.Fatal("a chart whose digest differs from the pin was installed")
	}
	for _, want := range []string{"sha256:" + r.digest, "sha256:" + wrong, "refused", "web 0.4.0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if errs.KindOf(err) != errs.Unavailable {
		t.Errorf("kind %v, want Unavailable", errs.KindOf(err))
	}
	if _, err := os.Stat(filepath.Join(cache, "charts", "web-0.4.0.tgz")); !os.IsNotExist(err) {
		t.Errorf("the refused chart was cached (stat err %v)", err)
	}
	if revs := helmRevisions(t, "wrong-digest", "wrong-digest"); len(revs) != 0 {
		t.Errorf("a release exists: %v", revs)
	}
}

func TestOfflineInstallNamesEveryMissingChartAndChangesNothing(t *testing.T) {
	t.Parallel()
	cat := &Catalog{Stacks: []Stack{
		upstreamStack("missing-a", "https://charts.invalid", "1.0.0", strings.Repeat("0", 64)),
		{Name: "missing-b", Namespace: "missing-b", Charts: []Chart{{Name: "other", Repo: "oci://registry.invalid/charts/other", Version: "2.0.0", Digest: strings.Repeat("1", 64)}}},
	}}
	in := newInstaller(t, cat, nil, func(o *Options) { o.Source.Offline = true })
	_, err := in.Install(context.Background(), []string{"missing-a", "missing-b"})
	if err == nil {
		t.Fatal("an offline install without the charts in the cache succeeded")
	}
	for _, want := range []string{"web-1.0.0", "other-2.0.0", "lab pull"} {
		if !strings.Contains(err.Error()+errs.HintOf(err), want) {
			t.Errorf("error lacks %q: %v (hint %q)", want, err, errs.HintOf(err))
		}
	}
	for _, ns := range []string{"missing-a", "missing-b"} {
		if _, err := shared.Client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
			t.Errorf("namespace %s was created although nothing could be installed", ns)
		}
	}
}

func TestPullCachesUpstreamChartsAndListsImages(t *testing.T) {
	t.Parallel()
	r := newChartRepo(t, "0.5.0")
	cat := testCatalog(
		upstreamStack("pulled", r.srv.URL, "0.5.0", r.digest),
		Stack{Name: "bundled", Namespace: "bundled", Charts: []Chart{{Name: "widgets"}}},
	)
	src := Source{CacheDir: t.TempDir()}
	first, err := cat.Pull([]string{"pulled", "bundled"}, ProfileLite, src)
	if err != nil {
		t.Fatal(err)
	}
	second, err := cat.Pull([]string{"pulled", "bundled"}, ProfileLite, src)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		res         *PullResult
		wantFetched bool
	}{
		{name: "first pull downloads", res: first, wantFetched: true},
		{name: "second pull uses the cache", res: second, wantFetched: false},
	}
	for _, tt := range tests {
		if len(tt.res.Charts) != 2 {
			t.Fatalf("%s: charts %+v", tt.name, tt.res.Charts)
		}
		up, bundled := tt.res.Charts[0], tt.res.Charts[1]
		if up.Fetched != tt.wantFetched || up.Path != src.CachePath(cat.Stacks[0].Charts[0]) || up.Digest != "sha256:"+r.digest {
			t.Errorf("%s: upstream chart %+v", tt.name, up)
		}
		if bundled.Source != "bundled" || bundled.Version != "0.2.0" {
			t.Errorf("%s: bundled chart %+v", tt.name, bundled)
		}
		var got []string
		for _, img := range tt.res.Images {
			got = append(got, img.Name+"@"+strings.Join(img.Stacks, ","))
		}
		want := "ghcr.io/stefanprodan/podinfo:6.7.1@pulled registry.k8s.io/pause:3.10@bundled"
		if strings.Join(got, " ") != want {
			t.Errorf("%s: images %v, want %s", tt.name, got, want)
		}
	}
}
