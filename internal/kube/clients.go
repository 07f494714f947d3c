package kube

import (
	"net/http"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Clients are every API client the engines use for one cluster, built from one
// configuration. Discovery is cached and the REST mapper reads through that cache, so
// an engine asks the API server for its resource list once, however many objects it
// maps.
type Clients struct {
	Config    *rest.Config
	Typed     kubernetes.Interface
	Dynamic   dynamic.Interface
	Metadata  metadata.Interface
	Discovery discovery.CachedDiscoveryInterface
	// Mapper finds the resource of a kind; Reset it after a CRD is created.
	Mapper meta.ResettableRESTMapper
	// HTTP carries the configuration's credentials, for raw requests to the API server.
	HTTP *http.Client
}

// NewClients builds the clients of cfg. The API server's deprecation warnings are
// dropped: client-go would print them to stderr, and engines never print.
func NewClients(cfg *rest.Config) (*Clients, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{}
	// One HTTP client under every client: one connection pool, one TLS set-up.
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	typed, err := kubernetes.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(disco)
	return &Clients{
		Config: cfg, Typed: typed, Dynamic: dyn, Metadata: md, Discovery: cached,
		Mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached), HTTP: httpClient,
	}, nil
}
