package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RolloutsController is the real Argo Rollouts controller (built from the Go module
// proxy by `make testenv`), run as a process against a test cluster the way it runs
// in a pod: kwok's simulated pods turn Ready, so canary steps, blue/green previews,
// promotions and aborts happen for real, and analysis runs query a real Prometheus.
type RolloutsController struct{ *daemon }

// RolloutsControllerBinary finds the controller in the test environment's binaries.
func RolloutsControllerBinary() (string, error) {
	dir, err := BinDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rollouts-controller")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no Argo Rollouts controller in %s: run `make testenv`", dir)
	}
	return bin, nil
}

// LaunchRolloutsController starts the controller on the cluster of kubeconfigPath,
// whose Argo Rollouts CRDs must be installed, logging under dir; it returns once the
// controller answers its health check. Stop it with Stop.
func LaunchRolloutsController(ctx context.Context, dir, kubeconfigPath string) (*RolloutsController, error) {
	bin, err := RolloutsControllerBinary()
	if err != nil {
		return nil, err
	}
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := startDaemon(ctx, "rollouts-controller", dir, bin, "/healthz", func(addr string) []string {
		_, port, _ := strings.Cut(addr, ":")
		return []string{
			"--kubeconfig=" + kubeconfigPath,
			"--healthzPort=" + port,
			fmt.Sprintf("--metricsport=%d", metricsPort),
			// One controller per test cluster: no lease to wait for.
			"--leader-elect=false",
			"--loglevel=info",
		}
	})
	if err != nil {
		return nil, err
	}
	return &RolloutsController{d}, nil
}
