package sim_test

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// listener is one listening TCP socket of a process.
type listener struct {
	component string
	addr      net.IP
	port      int
}

func (l listener) String() string {
	return fmt.Sprintf("%s on %s", l.component, net.JoinHostPort(l.addr.String(), strconv.Itoa(l.port)))
}

// listeners reads, from /proc, every TCP socket the cluster's components (the pids
// kwokctl recorded in clusterDir) listen on.
func listeners(t *testing.T, clusterDir string) []listener {
	t.Helper()
	pidFiles, err := filepath.Glob(filepath.Join(clusterDir, "pids", "*.pid"))
	if err != nil || len(pidFiles) == 0 {
		t.Fatalf("no pid files in %s: %v", clusterDir, err)
	}
	owner := map[string]string{} // socket inode -> component
	for _, f := range pidFiles {
		component := strings.TrimSuffix(filepath.Base(f), ".pid")
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pidOf(t, clusterDir, component)))
		if err != nil {
			t.Fatalf("reading the sockets of %s: %v", component, err)
		}
		for _, fd := range fds {
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pidOf(t, clusterDir, component), fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") {
				owner[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = component
			}
		}
	}
	var out []listener
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
			f := strings.Fields(line)
			const listen = "0A"
			if len(f) < 10 || f[3] != listen || owner[f[9]] == "" {
				continue
			}
			ip, port := parseProcAddr(t, f[1])
			out = append(out, listener{component: owner[f[9]], addr: ip, port: port})
		}
	}
	return out
}

// parseProcAddr decodes /proc/net/tcp's local_address: the IP as 32-bit words in the
// host's (little-endian) byte order, then the port in hex.
func parseProcAddr(t *testing.T, s string) (net.IP, int) {
	t.Helper()
	hexIP, hexPort, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(hexIP)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseInt(hexPort, 16, 32)
	if err != nil {
		t.Fatalf("port of %q: %v", s, err)
	}
	return net.IP(raw), int(port)
}

// assertLoopbackOnly fails when any component of the cluster listens on an address
// other than loopback (0.0.0.0 and :: included): etcd serves plain HTTP without
// authentication, and a sim cluster has no client beyond this machine.
func assertLoopbackOnly(t *testing.T, clusterDir string) {
	t.Helper()
	ls := listeners(t, clusterDir)
	seen := map[string]bool{}
	for _, l := range ls {
		seen[l.component] = true
		if !l.addr.IsLoopback() {
			t.Errorf("%s: listens beyond this machine", l)
		}
	}
	for _, c := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"} {
		if !seen[c] {
			t.Errorf("found no listening socket of %s (the check would miss its address): %v", c, ls)
		}
	}
}

func TestParseProcAddr(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, ip string
		port   int
	}{
		{"0100007F:0CEA", "127.0.0.1", 3306},
		{"00000000:1F90", "0.0.0.0", 8080},
		{"00000000000000000000000001000000:0050", "::1", 80},
		{"00000000000000000000000000000000:01BB", "::", 443},
		{"0000000000000000FFFF00000100007F:2379", "127.0.0.1", 9081},
	}
	for _, tc := range cases {
		ip, port := parseProcAddr(t, tc.in)
		if ip.String() != tc.ip || port != tc.port {
			t.Errorf("parseProcAddr(%q) = %s, %d; want %s, %d", tc.in, ip, port, tc.ip, tc.port)
		}
	}
}
