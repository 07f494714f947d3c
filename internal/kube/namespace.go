package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// NamespaceTimeout bounds the wait for a namespace being deleted to go.
const NamespaceTimeout = 2 * time.Minute

// EnsureNamespace creates ns unless a namespace of its name exists, which is left as it
// is (on an adopted cluster it may be the user's). One still being deleted (removed a
// moment ago) is waited for first, polling every interval.
func EnsureNamespace(ctx context.Context, cs kubernetes.Interface, ns *corev1.Namespace, interval time.Duration) error {
	client := cs.CoreV1().Namespaces()
	return wait.PollUntilContextTimeout(ctx, interval, NamespaceTimeout, true, func(ctx context.Context) (bool, error) {
		cur, err := client.Get(ctx, ns.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			// Created meanwhile by another: the next look sees whether it is usable.
			_, err := client.Create(ctx, ns, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
				return false, nil
			}
			return err == nil, err
		case err != nil:
			return false, err
		default:
			return cur.DeletionTimestamp == nil, nil
		}
	})
}

// DeleteNamespace deletes a namespace, if it exists, and waits until it is gone; after
// NamespaceTimeout the error is ErrNamespaceStuck.
func DeleteNamespace(ctx context.Context, cs kubernetes.Interface, name string, interval time.Duration) error {
	client := cs.CoreV1().Namespaces()
	if err := client.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	err := wait.PollUntilContextTimeout(ctx, interval, NamespaceTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := client.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", ErrNamespaceStuck, err)
	}
	return err
}

// ErrNamespaceStuck is a namespace still being deleted after NamespaceTimeout (a
// finalizer that nothing removes).
var ErrNamespaceStuck = errors.New("the namespace is still being deleted")
