package chaos

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cloudnativelab/lab/internal/errs"
)

// TestHogStarted: a hog counts as started only once its container runs; a reason the
// kubelet will not get past by itself fails the run with that reason, anything else waits.
func TestHogStarted(t *testing.T) {
	t.Parallel()
	waiting := func(reason, msg string) *corev1.ContainerState {
		return &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	}
	tests := []struct {
		name    string
		state   *corev1.ContainerState
		started bool
		wantErr string // "" = none, "wait" = errHogWaiting
	}{
		{"no status yet", nil, false, "wait"},
		{"creating", waiting("ContainerCreating", ""), false, "wait"},
		{"running", &corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, true, ""},
		{"already killed by its deadline", &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}, true, ""},
		{"image not there offline", waiting("ErrImagePull", "dial tcp: lookup registry-1.docker.io: no such host"), false,
			"the hog pod shop/lab-chaos-x cannot start: ErrImagePull: dial tcp"},
		{"backing off", waiting("ImagePullBackOff", "Back-off pulling image"), false, "ImagePullBackOff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "lab-chaos-x"}}
			if tt.state != nil {
				pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "hog", State: *tt.state}}
			}
			started, err := hogStarted(pod, HogImage)
			if started != tt.started {
				t.Errorf("started = %v, want %v", started, tt.started)
			}
			switch tt.wantErr {
			case "":
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
			case "wait":
				if !errors.Is(err, errHogWaiting) {
					t.Errorf("err = %v, want to go on waiting", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errs.KindOf(err) != errs.Unavailable || !strings.Contains(errs.HintOf(err), HogImage) {
					t.Errorf("err = %v (hint %q), want an Unavailable error with %q naming the image", err, errs.HintOf(err), tt.wantErr)
				}
			}
		})
	}
}

// TestWaitHogStarted: the wait looks again while the container is being created (a
// first version gave up on the first look), ends once it runs, fails at once on a
// reason the kubelet will not get past, and names the timeout when it never starts.
func TestWaitHogStarted(t *testing.T) {
	t.Parallel()
	d := &hogData{Namespace: "shop", Pod: "hog", Image: "busybox:1.37"}
	pod := func(state corev1.ContainerState) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Pod},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "hog", State: state}}}}
	}
	creating := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	ctx := context.Background()

	t.Run("starts after a while", func(t *testing.T) {
		t.Parallel()
		c := fake.NewSimpleClientset(pod(creating))
		go func() {
			time.Sleep(1500 * time.Millisecond)
			c.CoreV1().Pods(d.Namespace).UpdateStatus(ctx, pod(corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}), metav1.UpdateOptions{})
		}()
		if err := waitHogStarted(ctx, c, d, time.Minute); err != nil {
			t.Fatalf("wait: %v, want nil once the container runs", err)
		}
	})
	t.Run("image cannot be pulled", func(t *testing.T) {
		t.Parallel()
		c := fake.NewSimpleClientset(pod(corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "no registry"}}))
		err := waitHogStarted(ctx, c, d, time.Minute)
		if errs.KindOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "ImagePullBackOff") || !strings.Contains(errs.HintOf(err), "busybox:1.37") {
			t.Fatalf("wait: %v (hint %q), want Unavailable naming the reason and the image", err, errs.HintOf(err))
		}
	})
	t.Run("never starts", func(t *testing.T) {
		t.Parallel()
		c := fake.NewSimpleClientset(pod(creating))
		err := waitHogStarted(ctx, c, d, 2*time.Second)
		if errs.KindOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "did not start within 2s") {
			t.Fatalf("wait: %v, want Unavailable naming the timeout", err)
		}
	})
}
