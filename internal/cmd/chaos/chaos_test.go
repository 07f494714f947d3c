package chaos_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/app"
	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/testenv"
	"github.com/cloudnativelab/lab/internal/ui"
)

// foreign is a real cluster lab did not create: chaos must refuse it.
var foreign *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { foreign = c }) }

const labName = "chaoscli"

// cli is one sim lab made with `lab up`, a private state dir and kubeconfig, a client of
// the lab's cluster and the lab binary built from this tree.
type cli struct {
	t      *testing.T
	bin    string
	state  string
	client kubernetes.Interface
}

// TestCLI drives `lab chaos` as a user does, on a sim lab created by `lab up`. The
// subtests share the lab, so they run in order.
func TestCLI(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *cli)
	}{
		{"list says what runs on sim", testList},
		{"refusals are invalid input that changes nothing", testRefusals},
		{"an adopted cluster needs consent", testAdoptedNeedsConsent},
		{"dry run prints the changes and changes nothing", testDryRun},
		{"pod-kill with JSON events", testPodKillJSON},
		{"SIGKILL mid-fault, then revert --all", testKilledRunIsRevertedByRevertAll},
		{"metrics while running, then Ctrl-C reverts at once", testMetricsThenCtrlC},
		{"gameday reports in every format", testGameday},
		{"a gameday is refused before its first fault", testGamedayRefusedUpFront},
		{"a Secret's value leaves the journal with the fault", testSecretLeavesTheJournal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			tc.run(t, c)
		})
	}
}

func newCLI(t *testing.T) *cli {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for k, v := range map[string]string{
		"LAB_STATE_DIR": filepath.Join(dir, "state"), "KUBECONFIG": filepath.Join(dir, "kubeconfig"),
		"LAB_LOCK_WAIT": "5s", "LAB_SIM_BIN_DIR": bin, "NO_COLOR": "1",
	} {
		t.Setenv(k, v)
	}
	c := &cli{t: t, state: filepath.Join(dir, "state"), bin: buildLab(t)}
	t.Cleanup(func() { c.lab("down", "--name", labName) })
	if code, _, stderr := c.lab("up", "-f", "testdata/no-stacks.yaml", "--provider", "sim", "--name", labName); code != 0 {
		t.Fatalf("lab up: exit %d\n%s", code, stderr)
	}
	kubeconfig, err := os.ReadFile(filepath.Join(c.state, "labs", labName, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if c.client, err = kube.Clientset(kubeconfig); err != nil {
		t.Fatal(err)
	}
	c.createNamespace("shop")
	c.deploy("shop", "web", 3)
	return c
}

// lab runs the CLI in-process.
func (c *cli) lab(args ...string) (code int, stdout, stderr string) {
	io, _, out, errOut := ui.Test()
	code = app.Run(context.Background(), io, args)
	return code, out.String(), errOut.String()
}

// command is the built binary, for signals.
func (c *cli) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = os.Environ()
	return cmd
}

func buildLab(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "lab")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, "go", "build", "-o", out, "../../../cmd/lab").CombinedOutput(); err != nil {
		t.Fatalf("building lab: %v\n%s", err, msg)
	}
	return out
}

func (c *cli) createNamespace(name string) {
	_, err := c.client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cli) deploy(ns, name string, replicas int32) {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}}}},
	}
	if _, err := c.client.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	c.waitReady(ns, name)
}

// waitReady waits until the Deployment is rolled out with every replica Ready.
func (c *cli) waitReady(ns, name string) {
	c.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := c.client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		want := *d.Spec.Replicas
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want && s.Replicas == want, nil
	})
	if err != nil {
		c.t.Fatalf("deployment %s/%s never became ready", ns, name)
	}
}

func (c *cli) deployment(ns, name string) *appsv1.Deployment {
	c.t.Helper()
	d, err := c.client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

func (c *cli) specOf(ns, name string) string {
	data, _ := json.Marshal(c.deployment(ns, name).Spec)
	return string(data)
}

func (c *cli) podUIDs(ns, selector string) string {
	pods, err := c.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		c.t.Fatal(err)
	}
	var uids []string
	for _, p := range pods.Items {
		uids = append(uids, string(p.UID)+"@"+p.ResourceVersion)
	}
	return strings.Join(uids, ",")
}

func testList(t *testing.T, c *cli) {
	code, stdout, stderr := c.lab("chaos", "list", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var faults []chaos.FaultInfo
	if err := json.Unmarshal([]byte(stdout), &faults); err != nil {
		t.Fatal(err)
	}
	got := map[string]chaos.Support{}
	for _, f := range faults {
		got[f.Name] = f.Support
	}
	if got["pod-kill"].Level != chaos.Supported || got["bad-rollout"].Level != chaos.Limited {
		t.Errorf("pod-kill %+v, bad-rollout %+v", got["pod-kill"], got["bad-rollout"])
	}
	for _, f := range []string{"node-stop", "node-pause"} {
		if got[f].Level != chaos.Unsupported || !strings.Contains(got[f].Reason, "unsupported on sim") {
			t.Errorf("%s on sim: %+v, want unsupported on sim with the reason", f, got[f])
		}
	}
	code, stdout, _ = c.lab("chaos", "list")
	if code != 0 || !regexp.MustCompile(`node-stop\s+no\s+unsupported on sim: kwok simulates the nodes`).MatchString(stdout) {
		t.Errorf("table:\n%s", stdout)
	}
}

func testRefusals(t *testing.T, c *cli) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"kube-system", []string{"chaos", "run", "pod-kill", "-n", "kube-system", "--yes"}, []string{"namespace kube-system is protected", "--include-system"}},
		{"blast radius in percent", []string{"chaos", "run", "pod-kill", "-n", "shop", "-l", "app=web", "--count", "3", "--yes"},
			[]string{"would delete 3 of the 3 pods in namespace shop (100%), above the blast-radius cap of 50% (--max-percent)", "Hint: raise --max-percent to 100"}},
		{"blast radius in pods", []string{"chaos", "run", "pod-kill", "-n", "shop", "-l", "app=web", "--count", "3", "--max-pods", "2", "--max-percent", "100", "--yes"},
			[]string{"above the blast-radius cap of 2 pods (--max-pods)"}},
		{"a context lab did not create", []string{"--kubeconfig", foreign.KubeconfigPath, "chaos", "run", "scale", "-n", "shop", "--target", "deploy/web", "--replicas", "0", "--yes"},
			[]string{`context "testenv"`, `is not the cluster of lab "chaoscli"`, "chaos acts only on labs"}},
		{"a kind-only fault on sim", []string{"chaos", "run", "node-stop", "--node", labName + "-worker", "--yes"},
			[]string{"node-stop cannot run", "unsupported on sim"}},
		{"bad flag values", []string{"chaos", "run", "pod-kill", "--count", "0", "--grace-period", "-1s", "--yes"},
			[]string{"--count: must be at least 1", "--grace-period: must not be negative"}},
		{"a flag the fault does not read", []string{"chaos", "run", "scale", "--target", "deploy/web", "--replicas", "1", "--key", "x", "--yes"},
			[]string{"--key: does not apply to scale"}},
		{"scale beyond the nodes' room", []string{"chaos", "run", "scale", "-n", "shop", "--target", "deploy/web", "--replicas", "100000", "--yes"},
			[]string{"scale would add 99997 pods to shop/deployment/web (3 -> 100000 replicas), more than the", "free pod slots of the lab's 1 schedulable node(s) (110 allocatable,", "pass --beyond-capacity if you mean it"}},
		{"a cpu-hog beyond its node", []string{"chaos", "run", "cpu-hog", "-n", "shop", "--target", "deploy/web", "--cpu", "1000", "--yes"},
			[]string{"the hog would use up to 1k CPU, more than the 8 allocatable on node " + labName + "-worker", "ask for at most 8, or pass --beyond-capacity"}},
		{"a memory-hog beyond its node", []string{"chaos", "run", "memory-hog", "-n", "shop", "--target", "deploy/web", "--memory", "10Ti", "--yes"},
			[]string{"the hog would use up to 10Ti memory, more than the 16Gi allocatable on node " + labName + "-worker"}},
		{"an unknown fault", []string{"chaos", "run", "pod-kil"}, []string{`unknown fault "pod-kil"`}},
		{"no terminal and no --yes", []string{"chaos", "run", "scale", "-n", "shop", "--target", "deploy/web", "--replicas", "0"},
			[]string{"there is no terminal to answer on", "pass --yes"}},
		{"revert without ids or --all", []string{"chaos", "revert"}, []string{"needs fault ids or --all"}},
		{"a lab that does not exist", []string{"chaos", "status", "--name", "ghost"}, []string{`no lab named "ghost"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, beforePods := c.specOf("shop", "web"), c.podUIDs("shop", "app=web")
			code, _, stderr := c.lab(tt.args...)
			if code != errs.ExitInvalid {
				t.Fatalf("exit %d, want %d:\n%s", code, errs.ExitInvalid, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if c.specOf("shop", "web") != before || c.podUIDs("shop", "app=web") != beforePods {
				t.Error("a refused command changed the workload")
			}
		})
	}
}

func testAdoptedNeedsConsent(t *testing.T, c *cli) {
	adopt := func(name string, extra ...string) (int, string) {
		args := append([]string{"up", "-f", "testdata/no-stacks.yaml", "--provider", "existing", "--context", "testenv", "--kubeconfig", foreign.KubeconfigPath, "--name", name}, extra...)
		code, stdout, stderr := c.lab(args...)
		return code, stdout + stderr
	}
	if code, out := adopt("adopted"); code != 0 {
		t.Fatalf("adopting: exit %d\n%s", code, out)
	}
	t.Cleanup(func() { c.lab("--kubeconfig", foreign.KubeconfigPath, "down", "--name", "adopted") })
	code, _, stderr := c.lab("--kubeconfig", foreign.KubeconfigPath, "chaos", "run", "pod-kill", "--name", "adopted", "--yes")
	if code != errs.ExitInvalid || !strings.Contains(stderr, `lab "adopted" adopted context "testenv": lab did not create that cluster, and chaos on it needs explicit consent`) ||
		!strings.Contains(stderr, "--allow-chaos") {
		t.Fatalf("chaos on an adopted cluster without consent: exit %d\n%s", code, stderr)
	}
	// One cluster, one lab: the consented lab adopts it once the first is gone.
	if code, out := adopt("consented", "--allow-chaos"); code != errs.ExitInvalid || !strings.Contains(out, `the cluster lab "adopted" already adopted`) {
		t.Fatalf("adopting another lab's cluster: exit %d\n%s", code, out)
	}
	if code, _, stderr := c.lab("--kubeconfig", foreign.KubeconfigPath, "down", "--name", "adopted"); code != 0 {
		t.Fatalf("down adopted: %s", stderr)
	}
	if code, out := adopt("consented", "--allow-chaos"); code != 0 {
		t.Fatalf("adopting with consent: exit %d\n%s", code, out)
	}
	t.Cleanup(func() { c.lab("--kubeconfig", foreign.KubeconfigPath, "down", "--name", "consented") })
	code, stdout, stderr := c.lab("--kubeconfig", foreign.KubeconfigPath, "chaos", "list", "--name", "consented", "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"name": "pod-kill"`) {
		t.Fatalf("list on a consented cluster: exit %d\n%s%s", code, stdout, stderr)
	}
	var faults []chaos.FaultInfo
	json.Unmarshal([]byte(stdout), &faults)
	if faults[0].Name != "pod-kill" || faults[0].Support.Level != chaos.Supported {
		t.Errorf("pod-kill on a consented adopted cluster: %+v", faults[0])
	}
}

func testDryRun(t *testing.T, c *cli) {
	before, beforePods := c.specOf("shop", "web"), c.podUIDs("shop", "app=web")
	beforeRV := c.deployment("shop", "web").ResourceVersion
	code, stdout, stderr := c.lab("chaos", "run", "--name", labName, "scale", "-n", "shop", "--target", "deployment/web", "--replicas", "0", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !regexp.MustCompile(`scale\s+Deployment\s+shop\s+web\s+replicas 3 -> 0`).MatchString(stdout) || !strings.Contains(stderr, "Nothing was changed") {
		t.Errorf("dry run output:\n%s\n%s", stdout, stderr)
	}
	code, stdout, _ = c.lab("chaos", "run", "--name", labName, "pod-kill", "-n", "shop", "-l", "app=web", "--count", "1", "--seed", "7", "--dry-run", "-o", "json")
	var plan chaos.Plan
	if code != 0 || json.Unmarshal([]byte(stdout), &plan) != nil || plan.Seed == nil || *plan.Seed != 7 || len(plan.Changes) != 2 {
		t.Fatalf("pod-kill dry run -o json: exit %d\n%s", code, stdout)
	}
	if c.specOf("shop", "web") != before || c.podUIDs("shop", "app=web") != beforePods || c.deployment("shop", "web").ResourceVersion != beforeRV {
		t.Error("a dry run changed the workload (spec, pods or resourceVersion)")
	}
	if entries, _ := os.ReadDir(filepath.Join(c.state, "labs", labName, "chaos")); len(entries) != 0 {
		t.Errorf("a dry run wrote journal entries: %v", entries)
	}
}

func testPodKillJSON(t *testing.T, c *cli) {
	before := c.podUIDs("shop", "app=web")
	code, stdout, stderr := c.lab("chaos", "run", "--name", labName, "pod-kill", "-n", "shop", "-l", "app=web", "--duration", "0", "--yes", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var last event.Event
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Fatalf("not a JSON event: %q", line)
		}
	}
	if last.Type != event.Result || last.Fields["seed"] == "" || last.Fields["recoverySeconds"] == "" || !strings.HasPrefix(last.Fields["id"], "pod-kill-") {
		t.Fatalf("result event = %+v", last)
	}
	if c.podUIDs("shop", "app=web") == before {
		t.Error("no pod was replaced")
	}
	c.waitReady("shop", "web")
}

// testKilledRunIsRevertedByRevertAll kills `lab chaos run` with SIGKILL while its fault
// is held: nothing can revert it then but the journal.
func testKilledRunIsRevertedByRevertAll(t *testing.T, c *cli) {
	before := c.specOf("shop", "web")
	run := c.command("chaos", "run", "--name", labName, "scale", "-n", "shop", "--target", "deployment/web", "--replicas", "0", "--duration", "5m", "--yes")
	seen := startAndWaitFor(t, run, "✓ Injecting ")
	if d := c.deployment("shop", "web"); *d.Spec.Replicas != 0 || d.Annotations[chaos.AnnotationFault] != "scale" {
		t.Fatalf("while injected: replicas %d, annotations %v", *d.Spec.Replicas, d.Annotations)
	}
	run.Process.Kill()
	run.Wait()

	code, stdout, _ := c.lab("chaos", "status", "--name", labName, "-o", "json")
	var active []chaos.EntryStatus
	if code != 0 || json.Unmarshal([]byte(stdout), &active) != nil || len(active) != 1 {
		t.Fatalf("status after SIGKILL: exit %d\n%s\n(run printed:\n%s)", code, stdout, seen)
	}
	if a := active[0]; a.Phase != chaos.Active || a.Held || a.Remaining <= 0 || !strings.Contains(a.Note, "is gone") {
		t.Fatalf("status entry = %+v", a)
	}
	code, _, stderr := c.lab("chaos", "revert", "--name", labName, "--all")
	if code != 0 || !strings.Contains(stderr, "1 fault(s) reverted") {
		t.Fatalf("revert --all: exit %d\n%s", code, stderr)
	}
	if after := c.specOf("shop", "web"); after != before {
		t.Errorf("spec after revert --all:\n%s\nwant\n%s", after, before)
	}
	if a := c.deployment("shop", "web").Annotations; a[chaos.AnnotationID] != "" {
		t.Errorf("chaos annotations left: %v", a)
	}
	if code, stdout, _ := c.lab("chaos", "status", "--name", labName, "-o", "json"); code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("status after revert: %s", stdout)
	}
	if code, _, stderr := c.lab("chaos", "revert", "--name", labName, active[0].ID); code != 0 || !strings.Contains(stderr, "reverted already") {
		t.Errorf("reverting it again: exit %d\n%s", code, stderr)
	}
	c.waitReady("shop", "web")
}

// testMetricsThenCtrlC serves metrics during a run, scrapes them while the fault is
// held, then sends SIGINT: the fault is reverted at once and lab exits 130.
func testMetricsThenCtrlC(t *testing.T, c *cli) {
	before := c.specOf("shop", "web")
	run := c.command("chaos", "run", "--name", labName, "scale", "-n", "shop", "--target", "deploy/web", "--replicas", "1", "--duration", "10m",
		"--metrics-addr", "127.0.0.1:0", "--yes")
	// "holding" comes once the injection is counted.
	seen := startAndWaitFor(t, run, "• holding ")
	m := regexp.MustCompile(`serving lab's chaos metrics on (http://\S+)`).FindStringSubmatch(seen)
	if m == nil {
		t.Fatalf("no metrics address in:\n%s", seen)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`lab_chaos_injections_total{fault="scale",lab="chaoscli"} 1`, `lab_chaos_active_faults{fault="scale",lab="chaoscli"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
	// The fault lasts 10m: exiting as interrupted with the spec restored means Ctrl-C
	// reverted it.
	run.Process.Signal(syscall.SIGINT)
	err = run.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != errs.ExitInterrupted {
		t.Fatalf("after SIGINT: %v, want exit %d", err, errs.ExitInterrupted)
	}
	if after := c.specOf("shop", "web"); after != before {
		t.Errorf("spec after Ctrl-C:\n%s\nwant\n%s", after, before)
	}
	c.waitReady("shop", "web")
}

// startAndWaitFor starts cmd and reads its stderr until a line contains marker; the
// rest of stderr is drained in the background. It returns what was read.
func startAndWaitFor(t *testing.T, cmd *exec.Cmd, marker string) string {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen strings.Builder
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("lab exited before %q:\n%s", marker, seen.String())
			}
			seen.WriteString(line + "\n")
			if strings.Contains(line, marker) {
				go func() {
					for range lines {
					}
				}()
				return seen.String()
			}
		case <-timeout:
			t.Fatalf("no %q within a minute:\n%s", marker, seen.String())
		}
	}
}

const drill = `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: web-drill}
spec:
  steadyState:
    probeInterval: 200ms
    checks:
      - id: web-available
        interval: 200ms
        resource:
          apiVersion: apps/v1
          kind: Deployment
          namespace: shop
          name: web
          match: {status: {availableReplicas: 3}}
  timeline:
    - {id: web-down, at: 0s, type: scale, namespace: shop, target: deployment/web, replicas: 1, duration: 1s}
  recovery: {timeout: 1m}
`

func testGameday(t *testing.T, c *cli) {
	file := filepath.Join(t.TempDir(), "drill.yaml")
	if err := os.WriteFile(file, []byte(drill), 0o644); err != nil {
		t.Fatal(err)
	}
	before := c.specOf("shop", "web")
	code, stdout, stderr := c.lab("chaos", "gameday", file, "--name", labName, "--yes", "--seed", "5", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var rep chaos.GamedayReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	f := rep.Faults[0]
	if rep.Outcome != chaos.GamedayPassed || rep.Seed != 5 || f.TimeToDetect == nil || f.TimeToRecover == nil || f.Status() != "recovered" {
		t.Fatalf("report = %+v, fault %+v", rep, f)
	}
	if c.specOf("shop", "web") != before {
		t.Error("the deployment differs after the drill")
	}

	code, stdout, _ = c.lab("chaos", "gameday", file, "--name", labName, "--yes", "-o", "junit")
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if code != 0 || xml.Unmarshal([]byte(stdout), &suites) != nil || suites.Tests != 3 || suites.Failures != 0 ||
		suites.Suites[0].Cases[1].Name != "fault web-down (scale)" {
		t.Fatalf("junit: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = c.lab("chaos", "gameday", file, "--name", labName, "--yes", "-o", "markdown")
	for _, want := range []string{"# Gameday web-drill: passed", "| web-down | scale |", "## Timeline", "| inject |"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("markdown lacks %q (exit %d):\n%s", want, code, stdout)
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(drill, "replicas: 1,", "replicas: 1, count: 3,", 1)), 0o644)
	code, _, stderr = c.lab("chaos", "gameday", bad, "--name", labName, "--yes")
	if code != errs.ExitInvalid || !strings.Contains(stderr, "bad.yaml:17: spec.timeline[0].count: does not apply to scale") {
		t.Errorf("bad gameday file: exit %d\n%s", code, stderr)
	}
	code, _, stderr = c.lab("chaos", "gameday", file, "--name", labName, "--yes", "-o", "yaml")
	if code != errs.ExitInvalid || !strings.Contains(stderr, `unknown report format "yaml"`) {
		t.Errorf("-o yaml: exit %d\n%s", code, stderr)
	}
}

// refusedDrill's first fault is fine; its second the guard rails refuse.
const refusedDrill = `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: too-far}
spec:
  steadyState:
    checks:
      - id: web-available
        resource: {apiVersion: apps/v1, kind: Deployment, namespace: shop, name: web, match: {status: {availableReplicas: 3}}}
  timeline:
    - {id: web-down, at: 0s, type: scale, namespace: shop, target: deployment/web, replicas: 1, duration: 10s}
    - id: system-kill
      at: 5s
      type: pod-kill
      namespace: kube-system
`

func testGamedayRefusedUpFront(t *testing.T, c *cli) {
	file := filepath.Join(t.TempDir(), "drill.yaml")
	if err := os.WriteFile(file, []byte(refusedDrill), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(c.state, "labs", labName, "chaos")
	entries, _ := filepath.Glob(filepath.Join(journal, "*.json"))
	before, beforePods := c.specOf("shop", "web"), c.podUIDs("shop", "app=web")
	code, stdout, stderr := c.lab("chaos", "gameday", file, "--name", labName, "--yes")
	if code != errs.ExitInvalid {
		t.Fatalf("exit %d, want %d\n%s%s", code, errs.ExitInvalid, stdout, stderr)
	}
	for _, want := range []string{
		file + ":14: spec.timeline[1].namespace: namespace kube-system is protected from chaos",
		"set spec.blastRadius.includeSystem: true",
		"nothing was injected",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if c.specOf("shop", "web") != before || c.podUIDs("shop", "app=web") != beforePods {
		t.Error("the first fault's target was touched")
	}
	if after, _ := filepath.Glob(filepath.Join(journal, "*.json")); len(after) != len(entries) {
		t.Errorf("journal entries %d before, %d after: something was injected", len(entries), len(after))
	}
}

func testSecretLeavesTheJournal(t *testing.T, c *cli) {
	value := []byte("s3cret-" + strings.ReplaceAll(t.Name(), "/", "-"))
	_, err := c.client.CoreV1().Secrets("shop").Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Data: map[string][]byte{"password": value}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := c.lab("chaos", "run", "config-break", "--name", labName, "-n", "shop", "--target", "secret/db", "--key", "password",
		"--duration", "0", "--recovery-timeout", "0", "--yes")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	s, err := c.client.CoreV1().Secrets("shop").Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil || string(s.Data["password"]) != string(value) {
		t.Fatalf("the Secret after the revert: %v %q", err, s.Data["password"])
	}
	journal := filepath.Join(c.state, "labs", labName, "chaos")
	forms := []string{string(value), base64.StdEncoding.EncodeToString(value), base64.RawStdEncoding.EncodeToString(value)}
	files := 0
	err = filepath.WalkDir(journal, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		for _, form := range forms {
			if err == nil && strings.Contains(string(data), form) {
				t.Errorf("%s holds the Secret's value (as %q)", path, form)
			}
		}
		return err
	})
	if err != nil || files == 0 {
		t.Fatalf("walking %s: %v (%d files)", journal, err, files)
	}
}
