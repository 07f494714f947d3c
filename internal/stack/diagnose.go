package stack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Diagnosis limits: enough to act on, short enough to read in a terminal.
const (
	maxPods     = 8
	maxEvents   = 5
	maxLogLines = 5
)

// problem is why one pod is not ready, and the kind of fix it calls for.
type problem struct {
	pod    string
	reason string // Pending, ImagePullBackOff, CrashLoopBackOff, ...
	detail string
	cause  cause
}

type cause int

const (
	causeOther cause = iota
	causeMemory
	causeCPU
	causeImage
	causeCrash
	causeUnschedulable
)

// diagnose explains why a stack is not ready: its non-ready pods with their reasons,
// recent warning events of its namespace, and a next step.
func (in *Installer) diagnose(ctx context.Context, s Stack, timeout time.Duration, notReady []string) error {
	problems := in.podProblems(ctx, s.Namespace)
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s is not ready after %s", s.Name, timeout)
	for _, nr := range notReady {
		fmt.Fprintf(&b, "\n  %s", nr)
	}
	for _, p := range problems {
		fmt.Fprintf(&b, "\n  pod %s/%s: %s", s.Namespace, p.pod, p.reason)
		if p.detail != "" {
			b.WriteString(": " + p.detail)
		}
	}
	if events := in.warningEvents(ctx, s.Namespace); len(events) > 0 {
		b.WriteString("\n  recent warnings:")
		for _, e := range events {
			b.WriteString("\n    " + e)
		}
	}
	return errs.New(errs.Unavailable, b.String(), nextStep(s, problems))
}

// podProblems looks at every pod of the namespace that is not ready.
func (in *Installer) podProblems(ctx context.Context, namespace string) []problem {
	pods, err := in.c.Typed.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []problem{{pod: "?", reason: "cannot list pods", detail: err.Error()}}
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var out []problem
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || isPodReady(p) {
			continue
		}
		out = append(out, in.podProblem(ctx, p))
		if len(out) == maxPods {
			break
		}
	}
	return out
}

func (in *Installer) podProblem(ctx context.Context, p *corev1.Pod) problem {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return problem{pod: p.Name, reason: "Pending (" + orDefault(c.Reason, "not scheduled") + ")", detail: c.Message, cause: schedulingCause(c.Message)}
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case "ImagePullBackOff", "ErrImagePull", "InvalidImageName":
			return problem{pod: p.Name, reason: w.Reason, detail: fmt.Sprintf("image %s of container %s cannot be pulled: %s", cs.Image, cs.Name, w.Message), cause: causeImage}
		case "CrashLoopBackOff":
			return problem{pod: p.Name, reason: w.Reason, detail: fmt.Sprintf("container %s restarted %d times%s", cs.Name, cs.RestartCount, in.lastLogLines(ctx, p, cs.Name)), cause: causeCrash}
		case "":
		default:
			return problem{pod: p.Name, reason: w.Reason, detail: firstNonEmpty(w.Message, "container "+cs.Name+" is waiting")}
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if !cs.Ready {
			return problem{pod: p.Name, reason: string(p.Status.Phase), detail: "container " + cs.Name + " is not ready (its readiness probe fails)"}
		}
	}
	return problem{pod: p.Name, reason: string(p.Status.Phase), detail: p.Status.Message}
}

// schedulingCause reads the scheduler's message ("0/2 nodes are available: 2
// Insufficient memory.") for what the user can change.
func schedulingCause(msg string) cause {
	switch {
	case strings.Contains(msg, "Insufficient memory"):
		return causeMemory
	case strings.Contains(msg, "Insufficient cpu"):
		return causeCPU
	default:
		return causeUnschedulable
	}
}

// lastLogLines is the end of the previous run of a crashing container, as
// "; last log lines:\n      ...", or "" when logs cannot be read (on sim, no container
// runs, so there are none).
func (in *Installer) lastLogLines(ctx context.Context, p *corev1.Pod, container string) string {
	tail := int64(maxLogLines)
	data, err := in.c.Typed.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: container, Previous: true, TailLines: &tail}).DoRaw(ctx)
	text := strings.TrimSpace(string(data))
	if err != nil || text == "" {
		return ""
	}
	return "; last log lines:\n      " + strings.ReplaceAll(text, "\n", "\n      ")
}

// warningEvents are the namespace's latest Warning events, newest last, as
// "Reason kind/name: message" (repeats counted).
func (in *Installer) warningEvents(ctx context.Context, namespace string) []string {
	list, err := in.c.Typed.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return nil
	}
	events := list.Items
	sort.Slice(events, func(i, j int) bool { return eventTime(events[i]).Before(eventTime(events[j])) })
	if len(events) > maxEvents {
		events = events[len(events)-maxEvents:]
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		line := fmt.Sprintf("%s %s/%s: %s", e.Reason, strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, strings.TrimSpace(e.Message))
		// The scheduler records the same refusal again at each retry.
		if len(out) > 0 && strings.HasPrefix(out[len(out)-1], line) {
			out = out[:len(out)-1]
		}
		if e.Count > 1 {
			line += fmt.Sprintf(" (x%d)", e.Count)
		}
		out = append(out, line)
	}
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// nextStep says what to do about the first problem found.
func nextStep(s Stack, problems []problem) string {
	for _, p := range problems {
		switch p.cause {
		case causeMemory:
			return "the nodes lack the memory the pods request: give the cluster more memory (Docker Desktop: Settings > Resources), add a worker node, or use `profile: lite`; `lab footprint` shows what the stacks request"
		case causeCPU:
			return "the nodes lack the CPU the pods request: give the cluster more CPUs, add a worker node, or use `profile: lite`; `lab footprint` shows what the stacks request"
		case causeImage:
			return "check that the image exists and the nodes can reach its registry; for a classroom without network, run `lab pull` beforehand and load the images it lists"
		case causeCrash:
			return fmt.Sprintf("read the container's logs: kubectl logs -n %s %s --previous", s.Namespace, p.pod)
		case causeUnschedulable:
			return fmt.Sprintf("see why the scheduler refuses it: kubectl describe pod -n %s %s", s.Namespace, p.pod)
		}
	}
	return fmt.Sprintf("look at the stack's pods and events: kubectl get pods,events -n %s; then run `lab up` again", s.Namespace)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstNonEmpty(a, b string) string { return orDefault(a, b) }
