// Command labnet is the pod network of lab's kind node image: the part of kind's kindnetd
// a lab needs, written for lab because kindnetd cannot be built from the Go module
// proxy. It runs on every node (a DaemonSet on the host network) and, every few seconds:
//
//   - writes the CNI configuration for this node's pod CIDR (Debian's ptp, host-local
//     and portmap plugins), which makes the node Ready;
//   - routes every other node's pod CIDR through that node's address;
//   - masquerades traffic from pods to addresses outside the pod network.
//
// NetworkPolicy is not enforced (kindnetd does that with a controller lab does not need).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const confFile = "10-labnet.conflist"

func main() {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		log.Fatalf("labnet: %v", err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	self, subnet := os.Getenv("NODE_NAME"), os.Getenv("POD_SUBNET")
	confDir := envOr("CNI_CONF_DIR", "/etc/cni/net.d")
	if err := run("select-iptables"); err != nil {
		log.Printf("labnet: %v", err)
	}
	for {
		if err := reconcile(context.Background(), client, self, subnet, confDir); err != nil {
			log.Printf("labnet: %v", err)
		}
		time.Sleep(5 * time.Second)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func reconcile(ctx context.Context, client kubernetes.Interface, self, subnet, confDir string) error {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, node := range nodes.Items {
		cidr, addr := node.Spec.PodCIDR, internalIP(node)
		switch {
		case cidr == "":
			continue
		case node.Name == self:
			if err := writeConf(confDir, cidr); err != nil {
				return err
			}
		case addr != "":
			if err := run("ip", "route", "replace", cidr, "via", addr); err != nil {
				return err
			}
		}
	}
	if subnet == "" {
		return nil
	}
	return ensureMasquerade(subnet)
}

func internalIP(node corev1.Node) string {
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// writeConf writes the node's CNI configuration when it changed, atomically: the
// container runtime may read the folder at any moment.
func writeConf(dir, cidr string) error {
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "labnet",
		"plugins": []any{
			map[string]any{
				"type": "ptp", "ipMasq": false, "mtu": 1500,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": "/run/cni-ipam-state",
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"ranges":  []any{[]any{map[string]any{"subnet": cidr}}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, confFile)
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	log.Printf("labnet: pod CIDR %s", cidr)
	return os.Rename(tmp, path)
}

// ensureMasquerade adds, once, the rule that hides pod addresses behind the node's for
// traffic leaving the pod network (to the Docker network's gateway, for DNS).
func ensureMasquerade(subnet string) error {
	rule := []string{"-t", "nat", "POSTROUTING", "-s", subnet, "!", "-d", subnet,
		"-m", "comment", "--comment", "labnet: masquerade pod traffic leaving the pod network",
		"-j", "MASQUERADE"}
	check := append([]string{rule[0], rule[1], "-C"}, rule[2:]...)
	if run("iptables", check...) == nil {
		return nil
	}
	return run("iptables", append([]string{rule[0], rule[1], "-A"}, rule[2:]...)...)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %v: %s", name, args, err, out)
	}
	return nil
}
