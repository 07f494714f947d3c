// Package kube builds Kubernetes clients and edits kubeconfig files the way kind does:
// a lab's context is merged into the user's kubeconfig (KUBECONFIG or ~/.kube/config),
// made current, and removed again by `lab down`.
package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cloudnativelab/lab/internal/state"
)

// UserKubeconfigPath is the kubeconfig file lab writes contexts into: the explicit path
// when given, else the first entry of $KUBECONFIG, else ~/.kube/config (kind's rule).
func UserKubeconfigPath(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		if list := filepath.SplitList(env); len(list) > 0 && list[0] != "" {
			return list[0]
		}
	}
	return clientcmd.RecommendedHomeFile
}

// RenameContext rewrites a single-context kubeconfig so its context, cluster and user
// are all called name. Providers hand out kubeconfigs with their own names (kind-x,
// kwok-x); labs use lab-<name> whatever the provider.
func RenameContext(kubeconfig []byte, name string) ([]byte, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	// Inline certificate files (kwokctl refers to its pki dir) so the copy stands alone.
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, fmt.Errorf("inlining kubeconfig credentials: %w", err)
	}
	ctxName := cfg.CurrentContext
	if ctxName == "" && len(cfg.Contexts) == 1 {
		for n := range cfg.Contexts {
			ctxName = n
		}
	}
	kctx, ok := cfg.Contexts[ctxName]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no context %q", ctxName)
	}
	cluster, user := cfg.Clusters[kctx.Cluster], cfg.AuthInfos[kctx.AuthInfo]
	if cluster == nil || user == nil {
		return nil, fmt.Errorf("context %q refers to a missing cluster or user", ctxName)
	}
	out := clientcmdapi.NewConfig()
	out.Clusters[name] = cluster
	out.AuthInfos[name] = user
	out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: kctx.Namespace}
	out.CurrentContext = name
	return clientcmd.Write(*out)
}

// MergeContext adds (or replaces) the single context of kubeconfig into the file at path
// and makes it the current context, returning the one that was current before ("" for
// none). The file is locked and written atomically, 0600.
func MergeContext(ctx context.Context, path string, kubeconfig []byte) (previous string, err error) {
	src, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return "", err
	}
	err = editKubeconfig(ctx, path, func(dst *clientcmdapi.Config) {
		previous = dst.CurrentContext
		for n, c := range src.Clusters {
			dst.Clusters[n] = c
		}
		for n, u := range src.AuthInfos {
			dst.AuthInfos[n] = u
		}
		for n, c := range src.Contexts {
			dst.Contexts[n] = c
		}
		dst.CurrentContext = src.CurrentContext
	})
	return previous, err
}

// RemoveContext deletes the context name, and its cluster and user of the same name,
// from the file at path; the current context is unset when it was name. A missing file
// or context is not an error.
func RemoveContext(ctx context.Context, path, name string) error {
	if !state.Exists(path) {
		return nil
	}
	return editKubeconfig(ctx, path, func(cfg *clientcmdapi.Config) {
		delete(cfg.Contexts, name)
		delete(cfg.Clusters, name)
		delete(cfg.AuthInfos, name)
		if cfg.CurrentContext == name {
			cfg.CurrentContext = ""
		}
	})
}

// HasContext reports whether the kubeconfig at path has a context called name.
func HasContext(path, name string) bool {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return false
	}
	_, ok := cfg.Contexts[name]
	return ok
}

func editKubeconfig(ctx context.Context, path string, edit func(*clientcmdapi.Config)) error {
	// Same lock file name as client-go's own kubeconfig writers, so kubectl config and
	// kind do not interleave with us.
	lock, err := state.Acquire(ctx, path+".lab.lock", 10*time.Second)
	if err != nil {
		return err
	}
	defer func() {
		lock.Release()
		os.Remove(path + ".lab.lock")
	}()
	cfg := clientcmdapi.NewConfig()
	if state.Exists(path) {
		if cfg, err = clientcmd.LoadFromFile(path); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
	}
	edit(cfg)
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(path, data, 0o600)
}

// ExtractContext returns a standalone kubeconfig holding only context name (or the
// current context when name is empty) of the kubeconfig at path (or the default
// loading rules when path is empty), with credentials inlined.
func ExtractContext(path, name string) ([]byte, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cfg, err := rules.Load()
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = cfg.CurrentContext
	}
	if _, ok := cfg.Contexts[name]; !ok || name == "" {
		return nil, name, fmt.Errorf("context %q not found in the kubeconfig", name)
	}
	cfg.CurrentContext = name
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return nil, name, err
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, name, err
	}
	data, err := clientcmd.Write(*cfg)
	return data, name, err
}

// Flatten inlines the certificate and key files a kubeconfig refers to.
func Flatten(kubeconfig []byte) ([]byte, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, fmt.Errorf("inlining kubeconfig credentials: %w", err)
	}
	return clientcmd.Write(*cfg)
}

// ServerOf is the API server URL of a kubeconfig's current context, normalised (lower
// case, no trailing slash) so two kubeconfigs of one cluster compare equal; "" when it
// has none.
func ServerOf(kubeconfig []byte) string {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return ""
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok || cfg.Clusters[kctx.Cluster] == nil {
		return ""
	}
	return strings.TrimRight(strings.ToLower(cfg.Clusters[kctx.Cluster].Server), "/")
}
