package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
)

// removeTimeout bounds the wait for a release's objects to be deleted.
const removeTimeout = 3 * time.Minute

// Remove uninstalls the named stacks, dependents before what they depend on, and waits
// until their objects are gone. A namespace lab created for a stack goes too, once no
// release is left in it. Removing a stack that is not installed is not an error.
func (in *Installer) Remove(ctx context.Context, names []string) error {
	if err := in.catalog.Validate(names, "", "stacks"); err != nil {
		return err
	}
	stacks, err := in.catalog.Resolve(names)
	if err != nil {
		return err
	}
	// Resolve adds dependencies; only the named stacks are removed, last first.
	for _, s := range slices.Backward(stacks) {
		if !slices.Contains(names, s.Name) {
			continue
		}
		if err := in.removeStack(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (in *Installer) removeStack(ctx context.Context, s Stack) error {
	cfg, err := in.c.helmConfig(s.Namespace)
	if err != nil {
		return err
	}
	for _, c := range slices.Backward(s.Charts) {
		name := c.releaseName(s)
		title := fmt.Sprintf("Removing %s (release %s)", s.Name, name)
		last, err := lastRelease(cfg, name)
		if err != nil {
			return err
		}
		if last == nil {
			in.opts.Events.Skip(title, "not installed")
			continue
		}
		if last.Labels[LabelLab] != in.opts.Lab {
			in.opts.Events.Skip(title, "installed by someone else than lab "+in.opts.Lab+": left alone")
			continue
		}
		err = in.opts.Events.Step(ctx, title, func(ctx context.Context) error { return uninstall(cfg, name) })
		if err != nil {
			return err
		}
	}
	return in.removeNamespace(ctx, s.Namespace)
}

// uninstall deletes the release's objects in the foreground (a Deployment goes only
// once its ReplicaSets and pods have), waits for them, and forgets the release.
func uninstall(cfg *action.Configuration, name string) error {
	un := action.NewUninstall(cfg)
	un.Wait, un.Timeout, un.DeletionPropagation, un.IgnoreNotFound = true, removeTimeout, "foreground", true
	if _, err := un.Run(name); err != nil {
		return helmError("removing", name, err)
	}
	return nil
}

// removeNamespace deletes a namespace lab created (labelled with this lab) once no
// Helm release is left in it, and waits for it to go. A namespace lab did not create
// is never deleted.
func (in *Installer) removeNamespace(ctx context.Context, name string) error {
	ns, err := in.c.Typed.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Labels[kube.LabLabel] != in.opts.Lab || ns.DeletionTimestamp != nil {
		return nil
	}
	left, err := in.c.Typed.CoreV1().Secrets(name).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		return err
	}
	if len(left.Items) > 0 {
		return nil
	}
	return in.opts.Events.Step(ctx, "Deleting namespace "+name, func(ctx context.Context) error {
		err := kube.DeleteNamespace(ctx, in.c.Typed, name, in.opts.PollInterval)
		if errors.Is(err, kube.ErrNamespaceStuck) {
			return errs.Wrap(errs.Unavailable, err, "namespace "+name+" is still being deleted",
				"see what holds it: kubectl get namespace "+name+" -o yaml")
		}
		return err
	})
}
