package scenario

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// shared is the package's real sim cluster: the scenarios under test run on it, each in
// its own namespace.
var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

// testdataSource is the folder of the test scenarios, as --dir would name it.
func testdataSource(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("testdata/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// newEngine runs the test scenarios on the shared cluster, with state in a temp dir.
func newEngine(t *testing.T) *Engine {
	t.Helper()
	return &Engine{
		Lab:    &Lab{Name: "t", Context: "testenv", Kubeconfig: shared.Kubeconfig, Simulated: true, Dir: t.TempDir()},
		Load:   func(source string) (*Catalog, error) { return FromDir(source, Validation{}) },
		Source: testdataSource(t),
	}
}

func configMap(t *testing.T, namespace, name string, data map[string]string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
	if _, err := shared.Client.CoreV1().ConfigMaps(namespace).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func configMapExists(t *testing.T, namespace, name string) bool {
	t.Helper()
	_, err := shared.Client.CoreV1().ConfigMaps(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestTraineeFlow walks a trainee through a scenario on a real API server: start, a
// failed check with evidence, progressive hints, the step done by hand, a step solved by
// lab, the final score, status, reset and stop. Not parallel: TestSelfTest also runs
// "tiny", in the same namespace, once the serial tests are done.
func TestTraineeFlow(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)

	started, err := e.Start(ctx, "tiny", StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns := "sc-tiny"
	created, err := shared.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{kube.LabLabel: "t", kube.ChaosTargetLabel: "true", LabelScenario: "tiny"} {
		if got := created.Labels[k]; got != want {
			t.Errorf("namespace label %s = %q, want %q", k, got, want)
		}
	}
	if !configMapExists(t, ns, "base") {
		t.Fatal("setup did not apply setup/base.yaml in the scenario's namespace")
	}
	if want := "Create ConfigMap greeting in sc-tiny with kubectl --context testenv; notes in " + e.filesPath() + "."; started.Step.Text != want {
		t.Errorf("step 1 text = %q, want placeholders replaced: %q", started.Step.Text, want)
	}
	if data, err := os.ReadFile(filepath.Join(started.Files, "notes.txt")); err != nil || string(data) != "Notes for the trainee.\n" {
		t.Errorf("trainee files not copied: %q, %v", data, err)
	}

	failed, err := e.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if failed.Report.Passed || errs.KindOf(failed.Report.Err()) != errs.ChecksFailed || failed.Next != nil || failed.HintsLeft != 2 {
		t.Fatalf("check before the work = %+v (err %v), want a failed step with 2 hints left", failed.Report, failed.Report.Err())
	}
	if got := failed.Report.Checks[0].Result.Evidence.Actual; got != "not found" {
		t.Errorf("evidence = %q, want not found", got)
	}

	for i, want := range []string{"A ConfigMap holds key-value data", "kubectl create configmap greeting --from-literal=say=hello", ""} {
		h, err := e.Hint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Hint != want || h.Of != 2 || h.Number != min(i+1, 2) {
			t.Errorf("hint %d = %+v, want %q (number %d of 2)", i+1, h, want, min(i+1, 2))
		}
	}

	configMap(t, ns, "greeting", map[string]string{"say": "hello"})
	passed, err := e.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !passed.Report.Passed || passed.Next == nil || passed.Next.Number != 2 || passed.Score.Awarded != 10 {
		t.Fatalf("check after the work = %+v, next %+v, score %+v; want step 2 next and 10 points", passed.Report, passed.Next, passed.Score)
	}
	if passed.Next.Text != "Now the farewell, on lab t." {
		t.Errorf("step 2 text = %q", passed.Next.Text)
	}

	solved, err := e.Solve(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if solved.Solution != "kubectl -n sc-tiny create configmap farewell" || !solved.Check.Finished {
		t.Fatalf("solve = %+v, want the solution text and a finished scenario", solved)
	}
	if sc := solved.Check.Score; sc.Awarded != 10 || sc.Total != 15 {
		t.Errorf("score = %+v, want 10/15: a step solved by lab earns nothing", sc)
	}

	st, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Step != nil || !st.State.Finished() || st.State.Steps[0].Attempts != 2 || !st.State.Steps[1].Solved {
		t.Errorf("status = %+v", st.State)
	}

	reset, err := e.Reset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reset.State.Step != 0 || reset.State.Finished() || reset.State.Score().Awarded != 0 {
		t.Errorf("state after reset = %+v, want step 1 and no points", reset.State)
	}
	if configMapExists(t, ns, "greeting") || !configMapExists(t, ns, "base") {
		t.Error("reset did not give a fresh namespace with the setup applied again")
	}

	if _, err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s still there after stop: %v", ns, err)
	}
	if _, err := e.Check(ctx); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "no scenario is running") {
		t.Errorf("check after stop = %v, want no scenario running", err)
	}
}

// TestSelfTest proves a good scenario and catches the two ways checks go wrong: a check
// that passes before the solution, and a solution that does not satisfy its check.
func TestSelfTest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario string
		verdicts []Verdict
		why      string
	}{
		{"tiny", []Verdict{Proven, Proven}, ""},
		{"weak", []Verdict{Unproven}, "passed before the solution"},
		{"wrong", []Verdict{Unproven}, `did not pass after the solution (fail: data.a: expected "b", got`},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			rep, err := newEngine(t).Test(context.Background(), tt.scenario, TestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var verdicts []Verdict
			for _, c := range rep.Checks {
				verdicts = append(verdicts, c.Verdict)
				if c.Verdict == Unproven && !strings.Contains(c.Why, tt.why) {
					t.Errorf("why = %q, want it to contain %q", c.Why, tt.why)
				}
			}
			if !slices.Equal(verdicts, tt.verdicts) || rep.Error != "" || rep.OK() != (tt.why == "") {
				t.Errorf("report = %+v, want verdicts %v", rep, tt.verdicts)
			}
			if _, err := shared.Client.CoreV1().Namespaces().Get(context.Background(), "sc-"+tt.scenario, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the self-test left namespace sc-%s behind: %v", tt.scenario, err)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	all, err := FromDir("testdata/scenarios", Validation{})
	if err != nil {
		t.Fatal(err)
	}
	if got := all.Names(); !slices.Equal(got, []string{"tiny", "weak", "wrong"}) {
		t.Errorf("names = %v", got)
	}
	one, err := FromDir("testdata/scenarios/tiny", Validation{})
	if err != nil || !slices.Equal(one.Names(), []string{"tiny"}) {
		t.Fatalf("one scenario's folder = %v, %v", one, err)
	}
	if _, err := all.Get("tin"); err == nil || !strings.Contains(err.Error(), `(did you mean "tiny"?)`) {
		t.Errorf("Get(tin) = %v, want a suggestion", err)
	}
	if _, err := FromDir("testdata", Validation{}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("a folder without scenarios = %v, want invalid", err)
	}
}

func TestEmbeddedScenariosLoad(t *testing.T) {
	t.Parallel()
	c, err := Embedded(Validation{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"blue-green-judgment", "canary-analysis", "gameday-pod-kill", "helm-basics", "k8s-basics", "prometheus-alerting"}
	if !slices.Equal(c.Names(), want) {
		t.Errorf("embedded scenarios = %v, want %v", c.Names(), want)
	}
	for _, tt := range []struct {
		name      string
		supported bool
	}{{"k8s-basics", true}, {"helm-basics", true}, {"prometheus-alerting", false}, {"gameday-pod-kill", false}} {
		sc, _ := c.Get(tt.name)
		if ok, why := sc.Supported(true); ok != tt.supported || (!ok && !strings.Contains(why, "need a real cluster")) {
			t.Errorf("%s on a simulated lab: supported %v (%s), want %v", tt.name, ok, why, tt.supported)
		}
	}
}

// TestOneCommandAtATime: a second scenario command on the same lab waits briefly, then
// says who holds the lab, rather than writing progress over the first one's.
func TestOneCommandAtATime(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	unlock, err := e.exclusive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = e.Check(context.Background())
	if errs.KindOf(err) != errs.Busy || !strings.Contains(err.Error(), "another lab scenario command (pid ") {
		t.Errorf("check while locked = %v, want busy naming the holder", err)
	}
}
