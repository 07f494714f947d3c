package sim

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

func TestNodesForNamesLikeKindAndTaintsTheControlPlane(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		workers int
		want    []string
		tainted bool
	}{
		{"control plane only", 0, []string{"x-control-plane"}, false},
		{"one worker", 1, []string{"x-control-plane", "x-worker"}, true},
		{"three workers", 3, []string{"x-control-plane", "x-worker", "x-worker2", "x-worker3"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := spec.ClusterSpec{Nodes: []spec.NodeGroup{{Role: spec.RoleControlPlane, Count: 1}}}
			if tc.workers > 0 {
				c.Nodes = append(c.Nodes, spec.NodeGroup{Role: spec.RoleWorker, Count: tc.workers})
			}
			nodes := nodesFor("x", c)
			var names []string
			for _, n := range nodes {
				names = append(names, n.Name)
				if n.Annotations["kwok.x-k8s.io/node"] != "fake" {
					t.Errorf("%s lacks kwok's annotation", n.Name)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("names = %v, want %v", names, tc.want)
			}
			if got := len(nodes[0].Spec.Taints) > 0; got != tc.tainted {
				t.Fatalf("control plane tainted = %v, want %v", got, tc.tainted)
			}
			if _, ok := nodes[0].Labels["node-role.kubernetes.io/control-plane"]; !ok {
				t.Fatal("control plane lacks its role label")
			}
		})
	}
}

func TestWritePortConfigGivesDistinctPorts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writePortConfig(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "kwok.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, opt := range portOptions {
		i := strings.Index(string(data), opt+": ")
		if i < 0 {
			t.Fatalf("no %s in:\n%s", opt, data)
		}
		port := strings.Fields(string(data)[i+len(opt)+2:])[0]
		if seen[port] {
			t.Fatalf("port %s given twice:\n%s", port, data)
		}
		seen[port] = true
	}
}

func TestFindBinariesNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kwokctl"), []byte("#!/bin/sh\n"), 0o755)
	t.Setenv(BinDirEnv, dir)
	_, err := FindBinaries()
	if errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
	for _, want := range []string{"etcd", "kube-apiserver", "kwok", BinDirEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if !strings.Contains(errs.HintOf(err), "make testenv") {
		t.Errorf("hint %q does not say how to get them", errs.HintOf(err))
	}
}

func TestSameMinor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		have, want string
		ok         bool
	}{
		{"v1.36.3", "v1.36", true},
		{"v1.36.3", "v1.36.1", true},
		{"v1.36.3", "v1.35", false},
		{"v1.36.3", "", true},
	} {
		if got := sameMinor(tc.have, tc.want); got != tc.ok {
			t.Errorf("sameMinor(%s, %s) = %v", tc.have, tc.want, got)
		}
	}
}

func TestFreePortsStayInTheRangeAndSkipPortsInUse(t *testing.T) {
	t.Parallel()
	busy, taken := adjacentFreePair(t)
	defer busy.Close()
	// A range of two ports, one of them taken: every draw must return the other.
	r := portRange{low: taken, high: taken + 2}
	for range 20 {
		ports, err := freePorts(1, r)
		if err != nil {
			t.Fatal(err)
		}
		if ports[0] != taken+1 {
			t.Fatalf("drew %d from [%d, %d) with %d taken", ports[0], r.low, r.high, taken)
		}
	}
	if _, err := freePorts(2, r); err == nil {
		t.Fatal("asked for two ports where one is free: want an error")
	}
}

// adjacentFreePair holds a port whose next port is free too, below the ephemeral range
// so that no outgoing connection takes the free one meanwhile (the kernel's :0 would
// hand out an ephemeral port, whose neighbour any connection may be using).
func adjacentFreePair(t *testing.T) (net.Listener, int) {
	t.Helper()
	r := belowEphemeral()
	for port := r.low + 5000; port < r.high-1; port += 7 {
		held, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		next, err := net.Listen("tcp", ":"+strconv.Itoa(port+1))
		if err != nil {
			held.Close()
			continue
		}
		next.Close()
		return held, port
	}
	t.Fatal("no two adjacent free ports below the ephemeral range")
	return nil, 0
}

func TestBelowEphemeralEndsWhereTheKernelRangeBegins(t *testing.T) {
	t.Parallel()
	r := belowEphemeral()
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	start, _ := strconv.Atoi(strings.Fields(string(data))[0])
	if r.high != start || r.low >= r.high {
		t.Fatalf("range = %+v, kernel's ephemeral ports start at %d", r, start)
	}
}
