package kind

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/golden"
	"github.com/cloudnativelab/lab/internal/spec"
)

func TestClusterConfigGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		spec   spec.ClusterSpec
	}{
		{"default-ports.yaml", spec.ClusterSpec{}},
		{"no-ports.yaml", spec.ClusterSpec{Ports: []int{}}},
		{"custom-ports.yaml", spec.ClusterSpec{Ports: []int{8080, 8443}}},
		{"one-cp-two-workers.yaml", spec.ClusterSpec{Nodes: []spec.NodeGroup{
			{Role: spec.RoleControlPlane, Count: 1},
			{Role: spec.RoleWorker, Count: 2},
		}}},
		{"v1.34.yaml", spec.ClusterSpec{KubernetesVersion: "v1.34"}},
		{"v1.35.8.yaml", spec.ClusterSpec{KubernetesVersion: "v1.35.8", Ports: []int{}}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			cfg, err := ClusterConfig("demo", tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ConfigYAML(cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, filepath.Join("testdata", tt.golden), got)
			assertKindParses(t, got)
		})
	}
}

// assertKindParses decodes the YAML the way kind does: strictly, unknown fields fail.
func assertKindParses(t *testing.T, raw []byte) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var cfg v1alpha4.Cluster
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("kind could not read the config: %v", err)
	}
}

func TestClusterConfigShape(t *testing.T) {
	t.Parallel()
	cfg, err := ClusterConfig("demo", spec.ClusterSpec{Nodes: []spec.NodeGroup{
		{Role: spec.RoleWorker, Count: 1},
		{Role: spec.RoleControlPlane, Count: 3},
		{Role: spec.RoleWorker}, // no count: one node
	}})
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, n := range cfg.Nodes {
		roles = append(roles, string(n.Role))
	}
	if got, want := strings.Join(roles, ","), "control-plane,control-plane,control-plane,worker,worker"; got != want {
		t.Errorf("roles = %s, want %s", got, want)
	}
	for i, n := range cfg.Nodes[1:] {
		if len(n.ExtraPortMappings) != 0 || n.Labels != nil {
			t.Errorf("node %d has ports or labels; only the first control plane may", i+1)
		}
	}
}

func TestClusterConfigInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		spec     spec.ClusterSpec
		contains []string
	}{
		{"version without kind image", spec.ClusterSpec{KubernetesVersion: "v1.31"},
			[]string{"v1.31", "no kind node image", "v1.34, v1.35, v1.36"}},
		{"patch of version without kind image", spec.ClusterSpec{KubernetesVersion: "v1.33.2"},
			[]string{"v1.33", "available: v1.34, v1.35, v1.36"}},
		{"not a version", spec.ClusterSpec{KubernetesVersion: "latest"}, []string{`"latest"`}},
		{"no control plane", spec.ClusterSpec{Nodes: []spec.NodeGroup{{Role: spec.RoleWorker, Count: 2}}},
			[]string{"control-plane"}},
		{"unknown role", spec.ClusterSpec{Nodes: []spec.NodeGroup{{Role: "etcd"}}}, []string{`"etcd"`}},
		{"negative count", spec.ClusterSpec{Nodes: []spec.NodeGroup{{Role: spec.RoleWorker, Count: -1}}},
			[]string{"negative"}},
		{"port out of range", spec.ClusterSpec{Ports: []int{70000}}, []string{"70000"}},
		{"port twice", spec.ClusterSpec{Ports: []int{8080, 8080}}, []string{"8080", "twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ClusterConfig("demo", tt.spec)
			assertErr(t, err, errs.Invalid, tt.contains...)
			if errs.HintOf(err) == "" {
				t.Error("error has no hint")
			}
		})
	}
}

func TestNodeImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version, wantTag string
	}{
		{"", "v1.36.4"},
		{"v1.36", "v1.36.4"},
		{"v1.36.4", "v1.36.4"},
		{"v1.36.1", "v1.36.4"},
		{"v1.36.x", "v1.36.4"},
		{"1.35", "v1.35.8"},
		{"v1.34.11", "v1.34.11"},
	}
	for _, tt := range tests {
		image, err := NodeImage(tt.version)
		if err != nil {
			t.Errorf("NodeImage(%q): %v", tt.version, err)
			continue
		}
		if got := NodeImageVersion(image); got != tt.wantTag {
			t.Errorf("NodeImage(%q) runs %s, want %s", tt.version, got, tt.wantTag)
		}
		if !strings.Contains(image, "@sha256:") {
			t.Errorf("NodeImage(%q) = %s is not pinned by digest", tt.version, image)
		}
	}
}

func TestPatchMismatch(t *testing.T) {
	t.Parallel()
	image := nodeImages["v1.36"]
	for version, want := range map[string]bool{"": false, "v1.36": false, "v1.36.x": false, "v1.36.4": false, "1.36.4": false, "v1.36.2": true} {
		if got := patchMismatch(version, image); got != want {
			t.Errorf("patchMismatch(%q) = %v, want %v", version, got, want)
		}
	}
}

func TestAvailableKubernetesVersions(t *testing.T) {
	t.Parallel()
	if got := strings.Join(AvailableKubernetesVersions(), " "); got != "v1.34 v1.35 v1.36" {
		t.Errorf("AvailableKubernetesVersions() = %s", got)
	}
}

// assertErr checks that err is an *errs.Error of the kind, whose text has every part.
func assertErr(t *testing.T, err error, kind errs.Kind, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if got := errs.KindOf(err); got != kind {
		t.Errorf("kind = %v, want %v (%v)", got, kind, err)
	}
	for _, part := range contains {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
}
