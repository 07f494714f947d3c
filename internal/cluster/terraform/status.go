package terraform

import (
	"context"
	"fmt"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/kube"
)

// Status reads the state: no managed resource is a missing cluster; resources without
// a kubeconfig output are an apply that did not finish; otherwise the API server says
// whether the cluster runs.
func (p *Provider) Status(ctx context.Context, req cluster.Request) (cluster.Status, error) {
	st, err := readState(req)
	if err != nil {
		return cluster.Status{}, err
	}
	if st.empty() {
		return cluster.Status{State: cluster.Missing}, nil
	}
	kc, ok := st.output("kubeconfig")
	if !ok {
		return cluster.Status{State: cluster.Stopped, Detail: fmt.Sprintf(
			"the Terraform state holds %d resources but no kubeconfig: an apply did not finish (`lab up` finishes it, `lab down` destroys them)",
			len(st.addresses()))}, nil
	}
	v, err := kube.Ping(ctx, []byte(kc))
	if err != nil {
		return cluster.Status{State: cluster.Stopped, Detail: "the API server does not answer: " + err.Error()}, nil
	}
	return cluster.Status{State: cluster.Running, Detail: "made by Terraform, Kubernetes " + v}, nil
}
