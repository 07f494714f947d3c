package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// checkAdoption runs before an adopted cluster's lab changes anything: it refuses a
// context whose cluster is another lab's (two labs' `lab down` would remove each
// other's stacks, or delete the cluster under the adopter), and asks before installing
// stacks into a cluster lab did not create. A context that cannot be read is left to
// the provider's preflight to explain.
func (m *Manager) checkAdoption(name string, lab *spec.Lab, rec *Record, confirm func(string) (bool, error)) error {
	data, ctxName, err := kube.ExtractContext(m.UserKubeconfig, lab.Spec.Cluster.Context)
	if err != nil {
		return nil
	}
	if err := m.refuseOtherLabsCluster(name, ctxName, kube.ServerOf(data)); err != nil {
		return err
	}
	var installed []string
	if rec != nil {
		installed = installedStackNames(rec.Stacks)
	}
	var fresh []string
	for _, s := range lab.Spec.Stacks {
		if !slices.Contains(installed, s) {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) == 0 || confirm == nil {
		return nil
	}
	ok, err := confirm(fmt.Sprintf("Install %s into context %q, a cluster lab did not create? `lab down` removes what lab installs, and nothing else.",
		strings.Join(fresh, ", "), ctxName))
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Invalid, "cancelled: nothing was changed", "adopt without stacks with a lab file that lists none, or pass --yes")
	}
	return nil
}

// refuseOtherLabsCluster is an error when another lab's kubeconfig points at server.
func (m *Manager) refuseOtherLabsCluster(name, ctxName, server string) error {
	if server == "" {
		return nil
	}
	names, err := m.store().names()
	if err != nil {
		return err
	}
	for _, n := range names {
		other, err := m.store().load(n)
		if n == name || err != nil || other == nil {
			continue
		}
		data, err := readPrivate(other.Kubeconfig)
		if err != nil || kube.ServerOf(data) != server {
			continue
		}
		whose := fmt.Sprintf("the cluster of lab %q, which lab created (context %s)", n, other.Context)
		if m.info(other.Provider).Adopted {
			whose = fmt.Sprintf("the cluster lab %q already adopted (context %s)", n, other.Context)
		}
		return errs.Invalidf(fmt.Sprintf("use lab %q itself (`lab stacks add --name %s STACK` adds stacks to it), or adopt another context", n, n),
			"context %q is %s: lab does not adopt another lab's cluster", ctxName, whose)
	}
	return nil
}
