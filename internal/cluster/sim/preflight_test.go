package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/sim"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// The real kube-apiserver binary reports its version; a lab asking for another minor is
// refused before anything starts.
func TestPreflightRefusesAnotherKubernetesMinor(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(sim.BinDirEnv, bin)
	p := sim.New()
	req := cluster.Request{Name: "x", Cluster: spec.ClusterSpec{KubernetesVersion: "v1.30"}}
	err = p.Preflight(context.Background(), req, event.NewEmitter(nil))
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "asks for Kubernetes v1.30 but the sim binaries") {
		t.Fatalf("err = %v", err)
	}
	req.Cluster.KubernetesVersion = "v1.36"
	if err := p.Preflight(context.Background(), req, event.NewEmitter(nil)); err != nil {
		t.Fatalf("matching version refused: %v", err)
	}
}
