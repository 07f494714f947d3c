package scenario

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

// deployment is a manifest of a Deployment of replicas pods; stuck ones ask for a node
// that does not exist, so they never roll out.
func deployment(name string, replicas int, stuck bool) string {
	nodeSelector := ""
	if stuck {
		nodeSelector = "\n      nodeSelector: {lab-test/no-such-node: \"true\"}"
	}
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
  replicas: ` + strconv.Itoa(replicas) + `
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:` + nodeSelector + `
      containers: [{name: app, image: ghcr.io/stefanprodan/podinfo:6.9.1}]
`
}

// rolloutScenario is a scenario whose files are the given manifests, in a namespace of
// its own on the shared cluster.
func rolloutScenario(t *testing.T, name string, files map[string]string) (*Scenario, *clients) {
	t.Helper()
	fsys := fstest.MapFS{}
	for f, data := range files {
		fsys[f] = &fstest.MapFile{Data: []byte(data)}
	}
	sc := &Scenario{Scenario: &spec.Scenario{}, Files: fsys}
	sc.Metadata.Name = name
	c, err := newClients(shared.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ensureNamespace(context.Background(), sc.Namespace(), "t"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.deleteNamespace(context.Background(), sc.Namespace()) })
	return sc, c
}

func runningPods(t *testing.T, namespace, app string) int {
	t.Helper()
	pods, err := shared.Client.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range pods.Items {
		if kube.PodReady(&pods.Items[i]) {
			n++
		}
	}
	return n
}

// TestApplyWaitsForRollout checks that an apply action returns once its workloads have
// rolled out, so that a fault right after it finds running pods (CI once failed a
// setup's pod-kill that came before the backend's pod existed), and that `wait: false`
// returns at once for a workload that never rolls out.
func TestApplyWaitsForRollout(t *testing.T) {
	t.Parallel()
	no := false
	tests := []struct {
		name      string
		app       string
		replicas  int
		stuck     bool
		wait      *bool
		wantReady int
	}{
		{name: "waits", app: "web", replicas: 2, wantReady: 2},
		{name: "no-wait", app: "stuck", replicas: 1, stuck: true, wait: &no, wantReady: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, c := rolloutScenario(t, "apply-"+tt.name, map[string]string{"app.yaml": deployment(tt.app, tt.replicas, tt.stuck)})
			e := newEngine(t)
			a := &spec.Action{Apply: "app.yaml", Wait: tt.wait}
			if err := e.runAction(context.Background(), c, sc, a); err != nil {
				t.Fatal(err)
			}
			if got := runningPods(t, sc.Namespace(), tt.app); got != tt.wantReady {
				t.Errorf("ready pods right after the apply = %d, want %d", got, tt.wantReady)
			}
		})
	}
}

// TestRolloutWaitNamesWhatIsMissing checks the error of a rollout that does not finish.
func TestRolloutWaitNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	sc, c := rolloutScenario(t, "apply-stuck", map[string]string{"app.yaml": deployment("stuck", 1, true)})
	ws, err := applyFiles(context.Background(), c, sc, "app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []kube.Workload{{Kind: "Deployment", Namespace: sc.Namespace(), Name: "stuck"}}
	if len(ws) != 1 || ws[0] != want[0] {
		t.Fatalf("applied workloads = %+v, want %+v", ws, want)
	}
	err = kube.WaitRollouts(context.Background(), c.Typed, ws, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "not rolled out after 10s: deployment/stuck: 0 of 1 replicas") {
		t.Errorf("wait = %v, want it to name deployment/stuck and its replicas", err)
	}
	pods, _ := shared.Client.CoreV1().Pods(sc.Namespace()).List(context.Background(), metav1.ListOptions{})
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodPending {
			t.Errorf("pod %s is %s, want Pending (no node matches)", p.Name, p.Status.Phase)
		}
	}
}
