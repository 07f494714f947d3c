package kube

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigOf builds a kubeconfig with one context per name, each with its own cluster
// (server https://NAME:6443) and user, the first one current.
func kubeconfigOf(t *testing.T, names ...string) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	for _, n := range names {
		cfg.Clusters[n+"-cluster"] = &clientcmdapi.Cluster{Server: "https://" + n + ":6443/"}
		cfg.AuthInfos[n+"-user"] = &clientcmdapi.AuthInfo{Token: "token-" + n}
		cfg.Contexts[n] = &clientcmdapi.Context{Cluster: n + "-cluster", AuthInfo: n + "-user", Namespace: "ns-" + n}
	}
	if len(names) > 0 {
		cfg.CurrentContext = names[0]
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func load(t *testing.T, data []byte) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func loadFile(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A provider's kubeconfig (kind-x, kwok-x) becomes one whose context, cluster and user
// are all lab-<name>, keeping the server, credentials and namespace.
func TestRenameContext(t *testing.T) {
	t.Parallel()
	out, err := RenameContext(kubeconfigOf(t, "kind-x"), "lab-x")
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, out)
	c := cfg.Contexts["lab-x"]
	if cfg.CurrentContext != "lab-x" || len(cfg.Contexts) != 1 || c == nil || c.Cluster != "lab-x" || c.AuthInfo != "lab-x" || c.Namespace != "ns-kind-x" {
		t.Fatalf("renamed kubeconfig: current %q, contexts %v", cfg.CurrentContext, cfg.Contexts)
	}
	if cfg.Clusters["lab-x"].Server != "https://kind-x:6443/" || cfg.AuthInfos["lab-x"].Token != "token-kind-x" {
		t.Errorf("server or credentials lost: %+v %+v", cfg.Clusters["lab-x"], cfg.AuthInfos["lab-x"])
	}
}

func TestRenameContextErrors(t *testing.T) {
	t.Parallel()
	noCurrent := load(t, kubeconfigOf(t, "a", "b"))
	noCurrent.CurrentContext = ""
	ambiguous, _ := clientcmd.Write(*noCurrent)
	dangling := load(t, kubeconfigOf(t, "a"))
	delete(dangling.AuthInfos, "a-user")
	danglingData, _ := clientcmd.Write(*dangling)
	tests := []struct {
		name string
		in   []byte
	}{
		{"not yaml", []byte("{")},
		{"no context", kubeconfigOf(t)},
		{"two contexts, none current", ambiguous},
		{"context without its user", danglingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := RenameContext(tt.in, "lab-x"); err == nil {
				t.Error("renamed, want an error")
			}
		})
	}
}

// Merging adds the lab's context beside the user's, makes it current and says which
// was; removing it takes its cluster and user too, unsets current, and leaves the
// user's own contexts alone. The file stays private (0600).
func TestMergeAndRemoveContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, kubeconfigOf(t, "mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	lab, err := RenameContext(kubeconfigOf(t, "kind-x"), "lab-x")
	if err != nil {
		t.Fatal(err)
	}
	previous, err := MergeContext(ctx, path, lab)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadFile(t, path)
	if previous != "mine" || cfg.CurrentContext != "lab-x" || cfg.Contexts["mine"] == nil || cfg.Contexts["lab-x"] == nil {
		t.Fatalf("after merge: previous %q, current %q, contexts %v", previous, cfg.CurrentContext, cfg.Contexts)
	}
	if !HasContext(path, "lab-x") || HasContext(path, "lab-y") {
		t.Error("HasContext disagrees with the file")
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	if err := RemoveContext(ctx, path, "lab-x"); err != nil {
		t.Fatal(err)
	}
	cfg = loadFile(t, path)
	if cfg.CurrentContext != "" || cfg.Contexts["lab-x"] != nil || cfg.Clusters["lab-x"] != nil || cfg.AuthInfos["lab-x"] != nil {
		t.Errorf("after remove: current %q, contexts %v, clusters %v", cfg.CurrentContext, cfg.Contexts, cfg.Clusters)
	}
	if cfg.Contexts["mine"] == nil || cfg.Clusters["mine-cluster"] == nil {
		t.Error("the user's own context was removed")
	}
	if _, err := os.Stat(path + ".lab.lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
}

// Merging into a file that does not exist creates it; removing from one that does not
// exist, or a context it lacks, is not an error (lab down runs it after a failed up).
func TestMergeIntoNothingAndRemoveNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if err := RemoveContext(ctx, filepath.Join(dir, "missing"), "lab-x"); err != nil {
		t.Errorf("remove from a missing file: %v", err)
	}
	path := filepath.Join(dir, "new")
	previous, err := MergeContext(ctx, path, kubeconfigOf(t, "lab-x"))
	if err != nil || previous != "" || loadFile(t, path).CurrentContext != "lab-x" {
		t.Fatalf("merge into a new file: previous %q, err %v", previous, err)
	}
	if err := RemoveContext(ctx, path, "lab-other"); err != nil || loadFile(t, path).CurrentContext != "lab-x" {
		t.Errorf("removing another context: err %v, current %q", err, loadFile(t, path).CurrentContext)
	}
}

// Adopting a context extracts it alone, with its own cluster and user, whatever else
// the file holds; a missing context is an error naming it.
func TestExtractContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, kubeconfigOf(t, "a", "b"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ask, want string
	}{
		{"b", "b"},
		{"", "a"}, // the current context
	}
	for _, tt := range tests {
		data, name, err := ExtractContext(path, tt.ask)
		if err != nil {
			t.Fatal(err)
		}
		cfg := load(t, data)
		if name != tt.want || cfg.CurrentContext != tt.want || len(cfg.Contexts) != 1 || len(cfg.Clusters) != 1 || len(cfg.AuthInfos) != 1 {
			t.Errorf("ExtractContext(%q) = %q with contexts %v, clusters %v", tt.ask, name, cfg.Contexts, cfg.Clusters)
		}
	}
	if _, _, err := ExtractContext(path, "c"); err == nil {
		t.Error(`ExtractContext("c") succeeded on a file without it`)
	}
}

// Two kubeconfigs of one cluster compare equal whatever the case and trailing slash.
func TestServerOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"current context's server", kubeconfigOf(t, "A", "b"), "https://a:6443"},
		{"no context", kubeconfigOf(t), ""},
		{"not a kubeconfig", []byte("{"), ""},
	}
	for _, tt := range tests {
		if got := ServerOf(tt.in); got != tt.want {
			t.Errorf("%s: ServerOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// lab writes into the file KUBECONFIG names first, as kind does.
func TestUserKubeconfigPath(t *testing.T) {
	t.Setenv("KUBECONFIG", "/first"+string(filepath.ListSeparator)+"/second")
	if got := UserKubeconfigPath(""); got != "/first" {
		t.Errorf("with KUBECONFIG: %q, want /first", got)
	}
	if got := UserKubeconfigPath("/explicit"); got != "/explicit" {
		t.Errorf("explicit: %q", got)
	}
	t.Setenv("KUBECONFIG", "")
	if got := UserKubeconfigPath(""); got != clientcmd.RecommendedHomeFile {
		t.Errorf("default: %q, want %q", got, clientcmd.RecommendedHomeFile)
	}
}
