package stack

import (
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cloudnativelab/lab/internal/kube"
)

// clients are the Kubernetes clients of one cluster, built once from the lab's
// kubeconfig and shared by every release: discovery is cached, so concurrent installs
// ask the API server for its resources once rather than once per release.
type clients struct {
	kubeconfig []byte
	*kube.Clients
}

func newClients(kubeconfig []byte) (*clients, error) {
	cfg, err := kube.RESTConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the lab's kubeconfig: %w", err)
	}
	c, err := kube.NewClients(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{kubeconfig: kubeconfig, Clients: c}, nil
}

// restGetter is the genericclioptions.RESTClientGetter Helm builds its clients from: the
// shared clients, with namespace as the default for objects that name none.
type restGetter struct {
	c         *clients
	namespace string
}

var _ genericclioptions.RESTClientGetter = restGetter{}

func (g restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.c.Config), nil }

func (g restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.c.Discovery, nil
}

func (g restGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.c.Mapper, nil }

func (g restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	cfg, err := clientcmd.Load(g.c.kubeconfig)
	if err != nil {
		cfg = clientcmdapi.NewConfig()
	}
	return clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}

// helmConfig is a Helm action.Configuration for releases in namespace (Helm keeps a
// release's records, as Secrets, in its namespace). One per release: Helm caches the
// cluster's capabilities in it without a lock, so concurrent releases do not share one;
// the expensive part, discovery, is shared through the clients.
func (c *clients) helmConfig(namespace string) (*action.Configuration, error) {
	cfg := new(action.Configuration)
	if err := cfg.Init(restGetter{c: c, namespace: namespace}, namespace, "secret", discardLog); err != nil {
		return nil, fmt.Errorf("setting up Helm for namespace %s: %w", namespace, err)
	}
	return cfg, nil
}

// discardLog drops Helm's debug log: progress is reported through events.
func discardLog(string, ...any) {}
