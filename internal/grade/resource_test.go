package grade

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// createBackend creates, in a namespace of the test's own, a Deployment of 3 replicas
// with two containers (the app second), and waits until its pods are Ready (kwok marks
// them so on the sim cluster).
func createBackend(t *testing.T, namespace string) {
	t.Helper()
	ctx := context.Background()
	cs := cluster.Client
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), namespace, metav1.DeleteOptions{}) })
	labels := map[string]string{"app": "backend"}
	replicas := int32(3)
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "backend", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "sidecar", Image: "busybox:1.36"},
					{Name: "app", Image: "nginx:1.27", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}},
				}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(namespace).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(namespace).Get(ctx, "backend", metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == 3 && d.Status.AvailableReplicas == 3, nil
	})
	if err != nil {
		t.Fatalf("the backend's pods did not become ready: %v", err)
	}
}

func resourceCheck(id string, r spec.ResourceCheck) spec.Check {
	c := spec.Check{ID: id, Timeout: 2 * time.Second, Interval: 250 * time.Millisecond, Resource: &r}
	c.Default()
	if err := spec.ValidateChecks("checks", []spec.Check{c}); err != nil {
		panic(err)
	}
	return c
}

func count(op string, value float64) *spec.Comparison { return &spec.Comparison{Op: op, Value: &value} }

func TestResourceChecks(t *testing.T) {
	t.Parallel()
	const ns = "grade-resources"
	createBackend(t, ns)
	admin, err := NewKube(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	targets := &Targets{Kube: admin}
	deployment := func(match map[string]any, cond *spec.StatusCondition) spec.ResourceCheck {
		return spec.ResourceCheck{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "backend", Match: match, Condition: cond}
	}
	containers := func(items ...any) map[string]any {
		return map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": items}}}}
	}
	readyPods := func(c *spec.Comparison) spec.ResourceCheck {
		return spec.ResourceCheck{APIVersion: "v1", Kind: "Pod", Namespace: ns, Selector: "app=backend",
			Condition: &spec.StatusCondition{Type: "Ready", Status: "True"}, Count: c}
	}
	tests := []struct {
		name     string
		check    spec.Check
		outcome  Outcome
		evidence []string
	}{
		{"partial match", resourceCheck("partial", deployment(map[string]any{"spec": map[string]any{"replicas": 3}}, nil)), Pass, []string{"exists and matches"}},
		{"a field that differs", resourceCheck("replicas", deployment(map[string]any{"spec": map[string]any{"replicas": 5}}, nil)), Fail,
			[]string{"spec.replicas: expected 5, got 3"}},
		{"a list matched as a subset", resourceCheck("subset", deployment(containers(map[string]any{"name": "app", "image": "nginx:1.27"}), nil)), Pass, nil},
		{"a list item that is not there", resourceCheck("no-item", deployment(containers(map[string]any{"name": "app", "image": "nginx:1.28"}), nil)), Fail,
			[]string{`spec.template.spec.containers: no item matches {"image":"nginx:1.28","name":"app"}; closest is item 1: image: expected "nginx:1.28", got "nginx:1.27"`}},
		{"two wanted items need two items", resourceCheck("distinct", deployment(containers(map[string]any{"name": "app"}, map[string]any{"image": "nginx:1.27"}), nil)), Fail,
			[]string{"no item matches"}},
		{"a status condition", resourceCheck("available", deployment(nil, &spec.StatusCondition{Type: "Available", Status: "True"})), Pass, nil},
		{"a condition's reason", resourceCheck("reason", deployment(nil, &spec.StatusCondition{Type: "Available", Status: "True", Reason: "SomethingElse"})), Fail,
			[]string{"condition Available: expected reason SomethingElse, got \"MinimumReplicasAvailable\""}},
		{"a condition that is not there", resourceCheck("no-condition", deployment(nil, &spec.StatusCondition{Type: "Frozen", Status: "True"})), Fail,
			[]string{"got no condition of that type"}},
		{"a count of ready pods", resourceCheck("ready-pods", readyPods(count(">=", 3))), Pass, []string{"3 (of 3 objects found)"}},
		{"a count that is too low", resourceCheck("too-few", readyPods(count(">=", 4))), Fail, []string{"3 (of 3 objects found)"}},
		{"a count by selector alone", resourceCheck("by-selector", spec.ResourceCheck{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: ns, Selector: "app=backend", Count: count("==", 1)}), Pass, []string{"1"}},
		{"an object that does not exist", resourceCheck("missing", spec.ResourceCheck{APIVersion: "v1", Kind: "Service", Namespace: ns, Name: "nope"}), Fail, []string{"not found"}},
		{"a cluster-scoped object", resourceCheck("namespace", spec.ResourceCheck{APIVersion: "v1", Kind: "Namespace", Name: ns, Match: map[string]any{"status": map[string]any{"phase": "Active"}}}), Pass, nil},
		{"a kind the cluster does not have", resourceCheck("no-kind", spec.ResourceCheck{APIVersion: "example.com/v1", Kind: "Widget", Name: "w"}), Error,
			[]string{"the cluster has no kind Widget in example.com/v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gradeOne(t, targets, tt.check)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome = %s, want %s; evidence %+v, error %q", r.Outcome, tt.outcome, r.Evidence, r.Error)
			}
			all := r.Evidence.Actual + "\n" + strings.Join(r.Evidence.Diff, "\n") + "\n" + r.Error
			for _, want := range tt.evidence {
				if !strings.Contains(all, want) {
					t.Errorf("evidence does not mention %q:\n%s", want, all)
				}
			}
			if r.Evidence.Object == "" || r.Evidence.Expected == "" {
				t.Errorf("evidence lacks the object or the expectation: %+v", r.Evidence)
			}
		})
	}
}

// TestResourceCheckRBACDenied: a user without permissions gets an error that names
// RBAC, never a pass or a fail.
func TestResourceCheckRBACDenied(t *testing.T) {
	t.Parallel()
	cfg, err := kube.RESTConfig(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "trainee-without-rights"}
	denied, err := NewKubeForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	targets := &Targets{Kube: denied}
	for _, c := range []spec.Check{
		resourceCheck("get", spec.ResourceCheck{APIVersion: "v1", Kind: "ConfigMap", Namespace: "kube-system", Name: "extension-apiserver-authentication"}),
		resourceCheck("list", spec.ResourceCheck{APIVersion: "v1", Kind: "Pod", Count: count(">=", 0)}),
	} {
		r := gradeOne(t, targets, c)
		if r.Outcome != Error || !strings.Contains(r.Error, "RBAC denied") || !strings.Contains(r.Error, "trainee-without-rights") {
			t.Errorf("%s: %s %q, want an error naming RBAC and the user", c.ID, r.Outcome, r.Error)
		}
	}
}

// TestResourceCheckWaitsForTheObject: a check polls until the object appears.
func TestResourceCheckWaitsForTheObject(t *testing.T) {
	t.Parallel()
	admin, err := NewKube(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	check := resourceCheck("appears", spec.ResourceCheck{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "appears-later",
		Match: map[string]any{"data": map[string]any{"ready": "yes"}}})
	check.Timeout = 20 * time.Second
	go func() {
		time.Sleep(time.Second)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "appears-later"}, Data: map[string]string{"ready": "yes"}}
		cluster.Client.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{})
	}()
	t.Cleanup(func() {
		cluster.Client.CoreV1().ConfigMaps("default").Delete(context.Background(), "appears-later", metav1.DeleteOptions{})
	})
	if r := gradeOne(t, &Targets{Kube: admin}, check); r.Outcome != Pass || r.Attempts < 2 {
		t.Fatalf("%s after %d attempts: %+v", r.Outcome, r.Attempts, r.Evidence)
	}
}
