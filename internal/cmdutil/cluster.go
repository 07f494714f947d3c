package cmdutil

import (
	"context"
	"strconv"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/lab"
)

// ClusterFromFlags reports whether --kubeconfig or --context chose the cluster, in
// which case commands that read a cluster use it instead of a lab's.
func (f *Factory) ClusterFromFlags() bool {
	return f.Globals.Kubeconfig != "" || f.Globals.Context != ""
}

// FlagsKubeconfig is the standalone kubeconfig of --kubeconfig and --context.
func (f *Factory) FlagsKubeconfig() ([]byte, error) {
	data, name, err := kube.ExtractContext(f.Globals.Kubeconfig, f.Globals.Context)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot use context "+strconv.Quote(name)+" of the kubeconfig", "check --kubeconfig and --context")
	}
	return data, nil
}

// ResolveLab resolves the lab --name gives, or the one DefaultLabName picks. An
// invalid name or a lab that does not exist is an errs.Invalid error.
func (f *Factory) ResolveLab(ctx context.Context, name string) (*lab.Resolved, error) {
	m := f.Manager(event.Discard)
	if name == "" {
		name = DefaultLabName(ctx, m)
	}
	if err := lab.ValidateName(name); err != nil {
		return nil, err
	}
	return m.Resolve(ctx, name)
}

// ClusterKubeconfig is the admin kubeconfig of the cluster a command acts on:
// --kubeconfig/--context when given, else the lab's.
func (f *Factory) ClusterKubeconfig(ctx context.Context, labName string) ([]byte, error) {
	if f.ClusterFromFlags() {
		return f.FlagsKubeconfig()
	}
	r, err := f.ResolveLab(ctx, labName)
	if err != nil {
		return nil, err
	}
	return r.AdminKubeconfig, r.KubeconfigErr
}
