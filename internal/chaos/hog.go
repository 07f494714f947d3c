package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/errs"
)

// hog schedules a pod that burns CPU (cpu-hog) or holds memory (memory-hog) on the node
// of a target pod; the revert deletes it. The hog is bounded three ways: its resource
// limits, and an activeDeadlineSeconds that makes the kubelet stop it by itself soon
// after the fault should have ended, even if lab is gone.
type hog struct{ name string }

// HogImage runs the hog's shell loop; any image with a POSIX shell and dd would do.
const HogImage = "busybox:1.37"

func (f hog) Name() string { return f.name }
func (f hog) Summary() string {
	if f.name == "memory-hog" {
		return "schedule a pod holding memory (bounded by --memory) next to a target pod; revert deletes it"
	}
	return "schedule a pod burning CPU (bounded by --cpu) next to a target pod; revert deletes it"
}
func (f hog) Params() []string {
	ps := []string{"namespace", "target", "selector", "seed", "image"}
	if f.name == "memory-hog" {
		return append(ps, "memory")
	}
	return append(ps, "cpu")
}

func (f hog) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkNamespace(p, &errs)
	checkSelector(p, &errs)
	checkTarget(p, &errs, "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")
	if p.given("target") == p.given("selector") {
		errs.add("target", "give either target (deployment/NAME, pod/NAME, ...) or selector, to say which pod to hog next to")
	}
	checkQuantity("cpu", p.CPU, &errs)
	checkQuantity("memory", p.Memory, &errs)
	return errs
}

func (f hog) Support(_ context.Context, env *Env) Support {
	if env.Lab.Simulated {
		return limited("on sim the hog pod is really scheduled next to the target, but no container runs, so it uses no " + f.resourceWord())
	}
	return supported()
}

func (f hog) resourceWord() string {
	if f.name == "memory-hog" {
		return "memory"
	}
	return "CPU"
}

type hogData struct {
	Namespace string    `json:"namespace"`
	Node      string    `json:"node"`
	NextTo    string    `json:"nextTo"`
	Watch     ObjectRef `json:"watch"`
	Pod       string    `json:"pod"`
	Image     string    `json:"image"`
	Amount    string    `json:"amount"`
}

func (f hog) Plan(ctx context.Context, env *Env, p Params, lim Limits, rng *rand.Rand) (*Plan, error) {
	ns := namespaceOr(p)
	if err := guardNamespace(ctx, env, ns, lim); err != nil {
		return nil, err
	}
	victim, err := f.pickPod(ctx, env, ns, p, rng)
	if err != nil {
		return nil, err
	}
	d := &hogData{Namespace: ns, Node: victim.Spec.NodeName, NextTo: victim.Name, Image: p.Image, Amount: f.amount(p)}
	if err := f.checkSize(ctx, env, d, lim); err != nil {
		return nil, err
	}
	if d.Image == "" {
		d.Image = HogImage
	}
	plan := &Plan{
		Fault:   f.Name(),
		Summary: fmt.Sprintf("run a pod using up to %s %s on node %s, next to pod %s", d.Amount, f.resourceWord(), d.Node, victim.Name),
		data:    d,
	}
	rs := map[string]ObjectRef{}
	if owner, ok, err := ownerOf(ctx, env, ns, metav1.GetControllerOf(victim), rs); err != nil {
		return nil, err
	} else if ok {
		d.Watch = owner
		plan.Watch, plan.Targets = []ObjectRef{owner}, []ObjectRef{owner}
		plan.Changes = append(plan.Changes, Change{Action: "annotate", ObjectRef: owner, Detail: "marked while the fault lasts"})
	}
	// The pod's name depends on the journal entry, which does not exist yet.
	plan.Changes = append(plan.Changes, Change{Action: "create", ObjectRef: ObjectRef{Kind: "Pod", Namespace: ns, Name: "lab-chaos-<id>"},
		Detail: fmt.Sprintf("%s, limit %s %s, on node %s", f.name, d.Amount, f.resourceWord(), d.Node)})
	return plan, nil
}

// checkSize applies the capacity cap: no more than the node's allocatable.
func (f hog) checkSize(ctx context.Context, env *Env, d *hogData, lim Limits) error {
	if lim.BeyondCapacity {
		return nil
	}
	node, err := env.Client.CoreV1().Nodes().Get(ctx, d.Node, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading node %s: %w", d.Node, err)
	}
	if f.name == "memory-hog" {
		return checkHogSize("memory", d.Amount, d.Node, *node.Status.Allocatable.Memory(), lim)
	}
	return checkHogSize("cpu", d.Amount, d.Node, *node.Status.Allocatable.Cpu(), lim)
}

func (f hog) amount(p Params) string {
	switch {
	case f.name == "memory-hog" && p.Memory != "":
		return p.Memory
	case f.name == "memory-hog":
		return "256Mi"
	case p.CPU != "":
		return p.CPU
	default:
		return "1"
	}
}

// pickPod chooses the running pod to hog next to: the target's, or one the selector
// matches, at random from the seed when there are several.
func (f hog) pickPod(ctx context.Context, env *Env, ns string, p Params, rng *rand.Rand) (*corev1.Pod, error) {
	sel := p.Selector
	if p.Target != "" {
		kind, name, _ := parseTarget(p.Target, "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")
		if kind == "Pod" {
			pod, err := env.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, targetError(ObjectRef{Kind: kind, Namespace: ns, Name: name}, err)
			}
			if pod.Spec.NodeName == "" {
				return nil, dependsOnState(atParam("target", errs.Invalidf("", "pod %s is not scheduled on a node yet", name)))
			}
			return pod, nil
		}
		s, err := selectorOf(ctx, env, ObjectRef{Kind: kind, Namespace: ns, Name: name})
		if err != nil {
			return nil, targetError(ObjectRef{Kind: kind, Namespace: ns, Name: name}, err)
		}
		sel = s.String()
	}
	pods, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, err
	}
	var running []*corev1.Pod
	for i := range pods.Items {
		if pp := &pods.Items[i]; live(pp) && pp.Spec.NodeName != "" && pp.Labels[LabelID] == "" {
			running = append(running, pp)
		}
	}
	if len(running) == 0 {
		return nil, dependsOnState(errs.Invalidf("", "no running pod matches %q in namespace %s", sel, ns))
	}
	slices.SortFunc(running, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return running[rng.IntN(len(running))], nil
}

func (f hog) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[hogData](e)
	if err != nil {
		return err
	}
	d.Pod = "lab-chaos-" + e.ID
	if err := setData(e, d); err != nil {
		return err
	}
	pod := f.pod(d, e)
	_, err = env.Client.CoreV1().Pods(d.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) { // already there: an earlier attempt made it
		return err
	}
	if env.Lab.Simulated {
		return nil // kwok runs no container: there is nothing to wait for
	}
	return waitHogStarted(ctx, env.Client, d, hogStartTimeout)
}

// hogStartTimeout bounds the wait for the hog's container: busybox is small, but a
// node pulling it over a slow network takes a while.
const hogStartTimeout = 2 * time.Minute

// waitHogStarted waits until the hog's container runs, so a hog that cannot start (an
// offline node without its image) fails the run, which then reverts, instead of
// reporting a fault that never burnt anything.
func waitHogStarted(ctx context.Context, c kubernetes.Interface, d *hogData, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		pod, err := c.CoreV1().Pods(d.Namespace).Get(ctx, d.Pod, metav1.GetOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		started, err := hogStarted(pod, d.Image)
		last = err
		if errors.Is(err, errHogWaiting) {
			return false, nil // still starting: look again
		}
		return started, err
	})
	if last != nil && !errors.Is(last, errHogWaiting) {
		return last
	}
	if err != nil && ctx.Err() == nil {
		return errs.New(errs.Unavailable, fmt.Sprintf("the hog pod %s/%s did not start within %s: %v", d.Namespace, d.Pod, timeout, last),
			fmt.Sprintf("the events say why: `kubectl -n %s get events --field-selector involvedObject.name=%s`", d.Namespace, d.Pod))
	}
	return err
}

var errHogWaiting = errors.New("its container has not started")

// hogStarted reads the hog pod's container: running (or already done) is started;
// waiting for a reason that does not pass by itself is an error that says why.
func hogStarted(pod *corev1.Pod, image string) (bool, error) {
	for _, cs := range pod.Status.ContainerStatuses {
		switch {
		case cs.State.Running != nil || cs.State.Terminated != nil:
			return true, nil
		case cs.State.Waiting != nil && stuckReasons[cs.State.Waiting.Reason]:
			return false, errs.New(errs.Unavailable,
				fmt.Sprintf("the hog pod %s/%s cannot start: %s: %s", pod.Namespace, pod.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message),
				fmt.Sprintf("make %s available to the nodes (an offline lab: `lab pull --bundle DIR`, then `lab up --bundle DIR`), or give another with --image", image))
		}
	}
	return false, errHogWaiting
}

// stuckReasons are kubelet waiting reasons that retrying will not cure on its own.
var stuckReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CreateContainerConfigError": true, "CreateContainerError": true,
}

// pod is the hog: pinned to the node (nodeName, tolerating any taint), small requests
// so it fits, limits that bound it, and a deadline after which the kubelet kills it.
func (f hog) pod(d *hogData, e *Entry) *corev1.Pod {
	deadline := int64((e.Duration + 5*time.Minute).Seconds())
	limit := corev1.ResourceList{}
	script := ""
	if f.name == "memory-hog" {
		q := resource.MustParse(d.Amount)
		mib := max(q.Value()>>20, 1)
		// tmpfs pages count against the container's memory limit; dd fills it.
		script = fmt.Sprintf("dd if=/dev/zero of=/hog/fill bs=1M count=%d && sleep %d", mib, deadline)
		limit[corev1.ResourceMemory] = *resource.NewQuantity((mib+16)<<20, resource.BinarySI)
	} else {
		q := resource.MustParse(d.Amount)
		loops := max((q.MilliValue()+999)/1000, 1)
		script = fmt.Sprintf("for i in $(seq %d); do (while :; do :; done) & done; sleep %d", loops, deadline)
		limit[corev1.ResourceCPU] = q
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Pod, Namespace: d.Namespace,
			Labels:      map[string]string{LabelID: e.ID, managedByLabel: "lab"},
			Annotations: map[string]string{AnnotationID: e.ID, AnnotationFault: e.Fault},
		},
		Spec: corev1.PodSpec{
			NodeName:              d.Node,
			RestartPolicy:         corev1.RestartPolicyNever,
			ActiveDeadlineSeconds: &deadline,
			Tolerations:           []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name: "hog", Image: d.Image, Command: []string{"/bin/sh", "-c", script},
				Resources: corev1.ResourceRequirements{Limits: limit, Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}},
			}},
		},
	}
	if f.name == "memory-hog" {
		size := limit[corev1.ResourceMemory]
		pod.Spec.Volumes = []corev1.Volume{{Name: "hog", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &size}}}}
		pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "hog", MountPath: "/hog"}}
	}
	return pod
}

// Revert deletes every pod the entry created (found by label, so a hog created by an
// attempt that crashed before recording it goes too).
func (hog) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[hogData](e)
	if err != nil {
		return err
	}
	zero := int64(0)
	sel := labels.Set{LabelID: e.ID}.String()
	err = env.Client.CoreV1().Pods(d.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: sel})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
