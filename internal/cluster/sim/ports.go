package sim

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// portOptions are kwokctl's options for every port a binary-runtime cluster listens on.
var portOptions = []string{
	"etcdPeerPort", "etcdPort", "kubeApiserverPort",
	"kubeControllerManagerPort", "kubeSchedulerPort", "kwokControllerPort",
}

// writePortConfig gives the cluster ports of its own. kwokctl's default hands out ports
// counting down from 32766, checking only what listens right now: two labs created
// together, or one created while another is stopped, get the same ports and talk to
// each other's etcd. Ports the kernel picks at random do not collide that way.
func writePortConfig(kwokDir string) error {
	ports, err := freePorts(len(portOptions))
	if err != nil {
		return err
	}
	doc := "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\noptions:\n"
	for i, opt := range portOptions {
		doc += fmt.Sprintf("  %s: %d\n", opt, ports[i])
	}
	if err := os.MkdirAll(kwokDir, 0o700); err != nil {
		return err
	}
	// kwokctl reads $KWOK_WORKDIR/kwok.yaml by default.
	return os.WriteFile(filepath.Join(kwokDir, "kwok.yaml"), []byte(doc), 0o600)
}

// freePorts asks the kernel for n distinct free ports, holding each open until all are
// chosen so none repeats.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
