package sim

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// portOptions are kwokctl's options for every port a binary-runtime cluster listens on.
var portOptions = []string{
	"etcdPeerPort", "etcdPort", "kubeApiserverPort",
	"kubeControllerManagerPort", "kubeSchedulerPort", "kwokControllerPort",
}

// writePortConfig gives the cluster ports of its own. kwokctl's default hands out ports
// counting down from 32766, checking only what listens right now: two labs created
// together, or one created while another is stopped, get the same ports and talk to
// each other's etcd. Random ports avoid that; they are drawn below the kernel's
// ephemeral range, because a port in it can be handed to some outgoing connection
// between the moment lab checks it and the moment kwokctl's component binds it.
func writePortConfig(kwokDir string) error {
	ports, err := freePorts(len(portOptions), belowEphemeral())
	if err != nil {
		return err
	}
	// bindAddress: kwokctl's default is 0.0.0.0, which puts etcd (plain HTTP, no
	// authentication), the API server, the controller-manager, the scheduler and kwok's
	// controller on every network the machine is on. Every client of a sim cluster is
	// local (kwokctl's kubeconfig and the components themselves use 127.0.0.1).
	doc := "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\noptions:\n  bindAddress: " + bindAddress + "\n"
	for i, opt := range portOptions {
		doc += fmt.Sprintf("  %s: %d\n", opt, ports[i])
	}
	if err := os.MkdirAll(kwokDir, 0o700); err != nil {
		return err
	}
	// kwokctl reads $KWOK_WORKDIR/kwok.yaml by default.
	return os.WriteFile(filepath.Join(kwokDir, "kwok.yaml"), []byte(doc), 0o600)
}

// bindAddress is where every component of a sim cluster listens: loopback only.
const bindAddress = "127.0.0.1"

// portRange is a half-open range of TCP ports, [low, high).
type portRange struct{ low, high int }

// belowEphemeral is the range lab draws ports from: from 10000 up to where the kernel's
// ephemeral ports begin (32768 on Linux unless changed).
func belowEphemeral() portRange {
	r := portRange{low: 10000, high: 32768}
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return r
	}
	if f := strings.Fields(string(data)); len(f) == 2 {
		if start, err := strconv.Atoi(f[0]); err == nil && start > r.low+1000 {
			r.high = start
		}
	}
	return r
}

// freePorts draws n distinct ports at random from r that nothing listens on, holding
// each open until all are chosen so none repeats.
func freePorts(n int, r portRange) ([]int, error) {
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("finding %d free ports in %d-%d: gave up after %d tries", n, r.low, r.high-1, tries)
		}
		port := r.low + rand.IntN(r.high-r.low)
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			continue // in use: draw again
		}
		defer l.Close()
		ports = append(ports, port)
	}
	return ports, nil
}
