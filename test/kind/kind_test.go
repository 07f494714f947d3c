package kind

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// nodeKubernetesVersion is what hack/kind/build.sh builds the node image from.
const nodeKubernetesVersion = "v1.34.4"

func client(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: suite.kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: suite.context}).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig of the lab: %v", err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// TestNodesReady: both nodes of the lab joined, run the Kubernetes built from source,
// and the system pods (CoreDNS, kube-proxy, labnet, the control plane) run containers.
func TestNodesReady(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 2 {
		t.Fatalf("%d nodes, want 2 (control-plane and worker)", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		if !nodeReady(n) {
			t.Errorf("node %s is not Ready", n.Name)
		}
		if v := n.Status.NodeInfo.KubeletVersion; v != nodeKubernetesVersion {
			t.Errorf("node %s runs kubelet %s, want %s", n.Name, v, nodeKubernetesVersion)
		}
	}
	assertContainersRunning(t, c, "kube-system", 8)
}

// TestStacksRunContainers: every pod of the monitoring and demo-shop stacks runs its
// containers, from the images the bundle loaded.
func TestStacksRunContainers(t *testing.T) {
	c := client(t)
	assertContainersRunning(t, c, "monitoring", 4)
	assertContainersRunning(t, c, "demo-shop", 4)
}

// TestGradeThroughPortForward: lab grade reaches the in-cluster Prometheus through its
// automatic port-forward, sees every scrape target up (the demo shop's pods among them)
// and the demo shop's request metrics, and an http check reaches the frontend.
func TestGradeThroughPortForward(t *testing.T) {
	checks := writeFile(t, "checks.yaml", `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Checks
metadata: {name: kind-suite}
spec:
  checks:
    - id: every-target-up
      timeout: 4m
      interval: 10s
      promql: {query: "up", op: "==", value: 1}
    - id: shop-targets-scraped
      timeout: 4m
      interval: 10s
      promql: {query: 'count(up{namespace="demo-shop"} == 1)', op: ">=", value: 3}
    - id: shop-serves-requests
      timeout: 4m
      interval: 10s
      promql: {query: 'sum(rate(http_requests_total{namespace="demo-shop"}[2m]))', op: ">", value: 0}
    - id: frontend-answers
      timeout: 1m
      http: {namespace: demo-shop, service: frontend, port: http, path: /healthz, status: 200}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res := lab(ctx, "grade", checks, "-o", "json")
	t.Logf("lab grade: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	if res.code != 0 {
		t.Fatalf("lab grade exited %d, want 0 (every check passed)", res.code)
	}
	var report struct {
		Checks []struct {
			ID      string `json:"id"`
			Outcome string `json:"outcome"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(report.Checks) != 4 {
		t.Fatalf("%d checks in the report, want 4", len(report.Checks))
	}
	for _, ch := range report.Checks {
		if ch.Outcome != "pass" {
			t.Errorf("check %s: %s, want pass", ch.ID, ch.Outcome)
		}
	}
}

// TestPodKillRecovers: pod-kill deletes a real backend pod; its ReplicaSet starts a new
// one whose container runs.
func TestPodKillRecovers(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	selector := "app.kubernetes.io/name=backend"
	before := podUIDs(t, c, "demo-shop", selector)
	if len(before) == 0 {
		t.Fatal("no backend pod before the fault")
	}
	mustLab(t, ctx, "chaos", "run", "pod-kill", "-n", "demo-shop", "-l", selector, "--count", "1", "--yes")
	err := wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := c.CoreV1().Pods("demo-shop").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		replaced := false
		for _, p := range pods.Items {
			if !slices.Contains(before, string(p.UID)) && containersRunning(p) {
				replaced = true
			}
		}
		return replaced, nil
	})
	if err != nil {
		t.Fatalf("no new backend pod with running containers after pod-kill: %v", err)
	}
}

// TestCPUHog: the cpu-hog pod runs next to the backend and burns CPU, as the kubelet's
// own accounting of its container shows.
func TestCPUHog(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- lab(ctx, "chaos", "run", "cpu-hog", "-n", "demo-shop", "--target", "deployment/backend",
			"--cpu", "500m", "--duration", "45s", "--yes")
	}()
	// The hog's CPU is read while lab holds the fault (the pod goes with the revert);
	// the most seen counts.
	var used uint64
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	var res result
wait:
	for {
		select {
		case res = <-done:
			break wait
		case <-tick.C:
			used = max(used, hogCPU(ctx, c))
		}
	}
	if res.code != 0 {
		t.Fatalf("lab chaos run cpu-hog: exit %d\n%s", res.code, res.stderr)
	}
	if used < 5e9 { // five CPU-seconds
		t.Fatalf("the hog's container used %.1f CPU-seconds, want at least 5", float64(used)/1e9)
	}
	pods, err := c.CoreV1().Pods("demo-shop").List(context.Background(), metav1.ListOptions{LabelSelector: "lab.cloudnativelab.io/chaos-id"})
	if err == nil && len(pods.Items) > 0 && pods.Items[0].DeletionTimestamp == nil {
		t.Errorf("hog pod %s is still there after the revert", pods.Items[0].Name)
	}
}

// hogCPU reads the kubelet's summary of every node for the hog pods' CPU use.
func hogCPU(ctx context.Context, c kubernetes.Interface) uint64 {
	pods, err := c.CoreV1().Pods("demo-shop").List(ctx, metav1.ListOptions{LabelSelector: "lab.cloudnativelab.io/chaos-id"})
	if err != nil || len(pods.Items) == 0 || pods.Items[0].Spec.NodeName == "" {
		return 0
	}
	pod := pods.Items[0]
	raw, err := c.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", pod.Spec.NodeName, "proxy", "stats", "summary").DoRaw(ctx)
	if err != nil {
		return 0
	}
	var summary struct {
		Pods []struct {
			PodRef struct{ Name string } `json:"podRef"`
			CPU    struct {
				UsageCoreNanoSeconds uint64 `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
		} `json:"pods"`
	}
	if json.Unmarshal(raw, &summary) != nil {
		return 0
	}
	for _, p := range summary.Pods {
		if p.PodRef.Name == pod.Name {
			return p.CPU.UsageCoreNanoSeconds
		}
	}
	return 0
}

// TestScenariosOnKind is `lab scenario test --all` on the kind lab: every bundled
// scenario, the delivery ones against the real Argo Rollouts controller and the
// in-cluster Prometheus. Nothing may be skipped as "needs a real cluster" here.
func TestScenariosOnKind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	res := lab(ctx, "scenario", "test", "--all", "-o", "json")
	t.Logf("lab scenario test: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	var reports []struct {
		Scenario string `json:"scenario"`
		Skipped  int    `json:"skipped"`
		Proven   int    `json:"proven"`
		Checks   []any  `json:"checks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &reports); err != nil {
		t.Fatalf("%v in:\n%s", err, res.stdout)
	}
	if res.code != 0 || len(reports) < minScenarios {
		t.Fatalf("exit %d with %d reports, want 0 with at least %d", res.code, len(reports), minScenarios)
	}
	for _, r := range reports {
		if r.Skipped != 0 || r.Proven != len(r.Checks) {
			t.Errorf("%s on kind: %d skipped, %d of %d checks proven; want all proven, none skipped", r.Scenario, r.Skipped, r.Proven, len(r.Checks))
		}
	}
}

// minScenarios is how many scenarios lab bundles today; --all finding fewer means the
// embedded set lost some.
const minScenarios = 6

// TestNodeStopAndPause runs last: it restarts the worker's kubelet and containers, and
// the tests before it should not depend on how soon they are back.
//
// node-stop and node-pause act on the worker's container through
// Docker and their revert brings the node back Ready.
func TestNodeStopAndPause(t *testing.T) {
	worker := clusterName() + "-worker"
	for _, tc := range []struct {
		fault string
		state string // what docker inspect says while the fault holds
	}{
		{"node-stop", "exited"},
		{"node-pause", "paused"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			done := make(chan result, 1)
			go func() {
				done <- lab(ctx, "chaos", "run", tc.fault, "--node", worker, "--duration", "30s", "--yes")
			}()
			seen := waitContainerState(ctx, worker, tc.state)
			res := <-done
			if res.code != 0 {
				t.Fatalf("lab chaos run %s: exit %d\n%s", tc.fault, res.code, res.stderr)
			}
			if !seen {
				t.Errorf("the worker's container never was %q while %s held", tc.state, tc.fault)
			}
			if state := containerState(worker); state != "running" {
				t.Errorf("after the revert the worker's container is %q, want running", state)
			}
			waitNodeReady(ctx, t, client(t), worker)
		})
	}
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func containersRunning(p corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil || cs.ContainerID == "" {
			return false
		}
	}
	return len(p.Status.ContainerStatuses) > 0
}

// assertContainersRunning waits for every pod of the namespace to run its containers,
// and for at least min pods.
func assertContainersRunning(t *testing.T, c kubernetes.Interface, ns string, min int) {
	t.Helper()
	var pending []string
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		pending = nil
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodSucceeded {
				continue
			}
			if !containersRunning(p) {
				pending = append(pending, fmt.Sprintf("%s (%s)", p.Name, p.Status.Phase))
			}
		}
		return len(pending) == 0 && len(pods.Items) >= min, nil
	})
	if err != nil {
		t.Errorf("namespace %s: pods without running containers: %s (want at least %d pods)", ns, strings.Join(pending, ", "), min)
	}
}

func podUIDs(t *testing.T, c kubernetes.Interface, ns, selector string) []string {
	t.Helper()
	pods, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, p := range pods.Items {
		uids = append(uids, string(p.UID))
	}
	return uids
}

func containerState(name string) string {
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Status}}", name).Output()
	if err != nil {
		return "missing"
	}
	return strings.TrimSpace(string(out))
}

func waitContainerState(ctx context.Context, name, want string) bool {
	err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(context.Context) (bool, error) {
		return containerState(name) == want, nil
	})
	return err == nil
}

func waitNodeReady(ctx context.Context, t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		n, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		return err == nil && nodeReady(*n), nil
	})
	if err != nil {
		t.Fatalf("node %s did not come back Ready: %v", name, err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
