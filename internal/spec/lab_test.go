package spec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the .err golden files of testdata/bad")

// testLabEnv is the stack catalog the bad lab files are checked against.
var testLabEnv = LabEnv{Stacks: []string{"demo-shop", "logging", "monitoring"}}

// TestLoadLabBadFiles compares the errors for each testdata/bad/X.yaml with X.err.
func TestLoadLabBadFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad lab files: %v", err)
	}
	for _, file := range files {
		file = filepath.ToSlash(file)
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			lab, err := LoadLab(file, readFile(t, file), testLabEnv)
			if err == nil {
				t.Fatalf("LoadLab accepted a bad file: %+v", lab)
			}
			if lab != nil {
				t.Errorf("LoadLab returned a lab with an error")
			}
			requireFieldErrors(t, err)
			compareGolden(t, strings.TrimSuffix(file, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

// TestLoadLabReportsEveryProblem spells out, beyond its golden file, that one file with
// many mistakes gets all of them, each on its own line.
func TestLoadLabReportsEveryProblem(t *testing.T) {
	t.Parallel()
	const file = "testdata/bad/many-problems.yaml"
	_, err := LoadLab(file, readFile(t, file))
	want := []struct {
		line  int
		field string
	}{
		{5, "metadata.name"},
		{6, "metadata.labels"},
		{9, "spec.cluster.provider"},
		{10, "spec.cluster.kubernetesVersion"},
		{13, "spec.cluster.nodes[0].count"},
		{15, "spec.cluster.nodes[1].count"},
		{16, "spec.cluster.ports[1]"},
		{16, "spec.cluster.ports[2]"},
		{17, "spec.cluster.context"},
		{20, "spec.stacks[1]"},
		{21, "spec.stacks[2]"},
		{22, "spec.profile"},
		{23, "spec.extra"},
	}
	list := requireFieldErrors(t, err)
	if len(list) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if list[i].Line != w.line || list[i].Field != w.field || list[i].File != file {
			t.Errorf("error %d = %s:%d %s, want %s:%d %s", i, list[i].File, list[i].Line, list[i].Field, file, w.line, w.field)
		}
	}
}

func TestLoadLabGoodFiles(t *testing.T) {
	t.Parallel()
	defaultNodes := []NodeGroup{{Role: RoleControlPlane, Count: 1}, {Role: RoleWorker, Count: 1}}
	lab := func(name string, cluster ClusterSpec, stacks []string, profile string) *Lab {
		return &Lab{APIVersion: APIVersion, Kind: KindLab, Metadata: Metadata{Name: name},
			Spec: LabSpec{Cluster: cluster, Stacks: stacks, Profile: profile}}
	}
	tests := []struct {
		file string
		want *Lab
	}{
		{"minimal", lab("minimal", ClusterSpec{Provider: ProviderAuto, KubernetesVersion: "v1.36", Nodes: defaultNodes}, nil, ProfileLite)},
		{"ports-empty", lab("no-ports", ClusterSpec{Provider: ProviderKind, KubernetesVersion: "v1.36", Nodes: defaultNodes, Ports: []int{}}, nil, ProfileLite)},
		{"ports-null", lab("null-ports", ClusterSpec{Provider: ProviderAuto, KubernetesVersion: "v1.36", Nodes: defaultNodes}, nil, ProfileLite)},
		{"existing", lab("adopted", ClusterSpec{Provider: ProviderExisting, KubernetesVersion: "v1.36", Nodes: defaultNodes,
			Context: "my-cluster", AllowChaos: true}, []string{"monitoring"}, ProfileLite)},
		{"terraform", lab("cloud", ClusterSpec{Provider: ProviderTerraform, KubernetesVersion: "v1.36", Nodes: defaultNodes,
			Terraform: &TerraformSpec{Module: "./modules/my-cluster", Vars: map[string]any{"region": "eu-west-1", "nodes": 2}}},
			[]string{"monitoring"}, ProfileLite)},
		{"explicit", func() *Lab {
			l := lab("explicit", ClusterSpec{Provider: ProviderKind, KubernetesVersion: "v1.30.4",
				Nodes: []NodeGroup{{RoleControlPlane, 1}, {RoleWorker, 2}, {RoleWorker, 1}}, Ports: []int{8080, 8443}},
				[]string{"monitoring", "logging"}, ProfileFull)
			l.Metadata.Description = "every field written out"
			return l
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			file := "testdata/good/" + tt.file + ".yaml"
			got, err := LoadLab(file, readFile(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadLab(%s):\n got %#v\nwant %#v", file, got, tt.want)
			}
		})
	}
}

// TestLoadLabFileResolvesModulePaths: a module directory is relative to the lab file,
// whatever directory lab runs in; bundled module names and absolute paths stay.
func TestLoadLabFileResolvesModulePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]string{
		"./modules/my-cluster": filepath.Join(dir, "modules", "my-cluster"),
		"../shared/cluster":    filepath.Join(filepath.Dir(dir), "shared", "cluster"),
		"/opt/modules/cluster": "/opt/modules/cluster",
		"gke":                  "gke",
	}
	for module, want := range cases {
		t.Run(module, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(dir, strings.NewReplacer("/", "_", ".", "_").Replace(module)+".yaml")
			data := "apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Lab\nmetadata: {name: cloud}\n" +
				"spec:\n  cluster:\n    provider: terraform\n    terraform: {module: " + module + "}\n"
			if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			lab, err := LoadLabFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := lab.Spec.Cluster.Terraform.Module; got != want {
				t.Errorf("module %q resolved to %q, want %q", module, got, want)
			}
		})
	}
}

func TestEmbeddedLabs(t *testing.T) {
	t.Parallel()
	if names := EmbeddedLabNames(); !slices.Equal(names, []string{"default", "full"}) {
		t.Fatalf("EmbeddedLabNames() = %v", names)
	}
	tests := []struct {
		name    string
		workers int
		stacks  []string
		profile string
	}{
		{"default", 1, []string{"monitoring", "demo-shop"}, ProfileLite},
		{"full", 2, []string{"monitoring", "demo-shop", "delivery"}, ProfileFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lab, err := EmbeddedLab(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			c := lab.Spec.Cluster
			switch {
			case lab.Metadata.Name != tt.name:
				t.Errorf("metadata.name = %q, want the file's name %q", lab.Metadata.Name, tt.name)
			case lab.Metadata.Description == "":
				t.Errorf("no description")
			case c.Provider != ProviderAuto || c.KubernetesVersion != DefaultKubernetesVersion:
				t.Errorf("provider %q, version %q", c.Provider, c.KubernetesVersion)
			case c.ControlPlanes() != 1 || c.Workers() != tt.workers:
				t.Errorf("nodes %+v, want 1 control-plane and %d workers", c.Nodes, tt.workers)
			case c.Ports != nil:
				t.Errorf("ports = %v, want nil (provider default)", c.Ports)
			case !slices.Equal(lab.Spec.Stacks, tt.stacks) || lab.Spec.Profile != tt.profile:
				t.Errorf("stacks %v profile %q", lab.Spec.Stacks, lab.Spec.Profile)
			}
		})
	}
}

func TestEmbeddedLabUnknown(t *testing.T) {
	t.Parallel()
	_, err := EmbeddedLab("nope")
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("kind of %v = %v, want Invalid", err, errs.KindOf(err))
	}
	if !strings.Contains(err.Error(), "default, full") {
		t.Errorf("error %q does not list the built-in labs", err)
	}
}

func TestValidateLabBuiltInCode(t *testing.T) {
	t.Parallel()
	lab := &Lab{Metadata: Metadata{Name: "coded"}}
	lab.Default()
	if err := lab.Validate(); err != nil {
		t.Fatalf("defaulted lab: %v", err)
	}
	lab.Spec.Cluster.Provider = "docker"
	lab.Spec.Cluster.Ports = []int{0}
	want := `spec.cluster.ports[0]: must be between 1 and 65535, got 0
spec.cluster.provider: must be one of auto, kind, sim, existing, terraform, got "docker"`
	err := lab.Validate()
	requireFieldErrors(t, err)
	if err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

func TestParseKubernetesVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    KubernetesVersion
		wantErr string
	}{
		{"v1.36", KubernetesVersion{Minor: 36, Patch: -1}, ""},
		{"v1.30.0", KubernetesVersion{Minor: 30, Patch: 0}, ""},
		{"v1.33.12", KubernetesVersion{Minor: 33, Patch: 12}, ""},
		{"v1.29", KubernetesVersion{}, "version v1.29 is not supported; this build supports v1.30 to v1.36"},
		{"v1.37.1", KubernetesVersion{}, "version v1.37 is not supported"},
		{"1.36", KubernetesVersion{}, `must look like v1.36 or v1.36.2, got "1.36"`},
		{"v1.036", KubernetesVersion{}, "must look like"},
		{"v2.1", KubernetesVersion{}, "must look like"},
		{"", KubernetesVersion{}, "must look like"},
	}
	for _, tt := range tests {
		got, err := ParseKubernetesVersion(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseKubernetesVersion(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.in {
			t.Errorf("ParseKubernetesVersion(%q) = %+v (%s), %v", tt.in, got, got, err)
		}
	}
	want := []string{"v1.30", "v1.31", "v1.32", "v1.33", "v1.34", "v1.35", "v1.36"}
	if got := SupportedKubernetesVersions(); !slices.Equal(got, want) {
		t.Errorf("SupportedKubernetesVersions() = %v", got)
	}
}

func TestClusterSpecCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		nodes                  []NodeGroup
		controlPlanes, workers int
	}{
		{"omitted nodes are the default", nil, 1, 1},
		{"empty list is no nodes", []NodeGroup{}, 0, 0},
		{"count 0 means 1", []NodeGroup{{Role: RoleControlPlane}, {Role: RoleWorker}}, 1, 1},
		{"groups are summed", []NodeGroup{{RoleControlPlane, 1}, {RoleWorker, 2}, {RoleWorker, 3}}, 1, 5},
		{"control plane only", []NodeGroup{{RoleControlPlane, 1}}, 1, 0},
	}
	for _, tt := range tests {
		c := ClusterSpec{Nodes: tt.nodes}
		if c.ControlPlanes() != tt.controlPlanes || c.Workers() != tt.workers || c.NodeCount() != tt.controlPlanes+tt.workers {
			t.Errorf("%s: %d control planes, %d workers, %d nodes", tt.name, c.ControlPlanes(), c.Workers(), c.NodeCount())
		}
		if !reflect.DeepEqual(c.Nodes, tt.nodes) {
			t.Errorf("%s: counting changed the spec to %+v", tt.name, c.Nodes)
		}
	}
}

// requireFieldErrors checks the error contract of the package: errs.Invalid, wrapping an
// ErrorList whose errors all have a line when they come from a file.
func requireFieldErrors(t *testing.T, err error) ErrorList {
	t.Helper()
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("kind of %v = %v, want Invalid", err, errs.KindOf(err))
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("%v does not wrap an ErrorList", err)
	}
	for _, e := range list {
		if e.File != "" && e.Line < 1 {
			t.Errorf("error without a line: %#v", e)
		}
	}
	return list
}

func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("errors differ from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", golden, got, want)
	}
}

func readFile(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
