package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// shared is the package's real sim cluster: kube-apiserver, etcd, controller-manager,
// scheduler and kwok. Every test works in a namespace of its own.
var shared *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, func(c *testenv.Cluster) { shared = c }) }

// simLab is a lab on the shared cluster, with a private journal.
func simLab(t *testing.T) *Lab {
	t.Helper()
	return &Lab{Name: "chaos-test", Simulated: true, Running: true,
		Context: "testenv", Kubeconfig: shared.Kubeconfig, JournalDir: t.TempDir()}
}

// testEngine records events and retries reverts quickly.
func testEngine(rec *event.Recorder) *Engine {
	var sink event.Sink = event.Discard
	if rec != nil {
		sink = rec
	}
	return &Engine{Events: event.NewEmitter(sink), RevertBackoff: wait.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Steps: 3}}
}

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	name = strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
	ctx := context.Background()
	_, err := shared.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

type deployOpt func(*appsv1.Deployment)

// deploy creates a Deployment of replicas pods labelled app=name and waits until all
// are Ready (kwok marks them so).
func deploy(t *testing.T, ns, name string, replicas int32, opts ...deployOpt) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	ctx := context.Background()
	if _, err := shared.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, name)
	got, err := shared.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitReady waits until the Deployment is rolled out with every replica Ready.
func waitReady(t *testing.T, ns, name string) {
	t.Helper()
	env := &Env{Client: shared.Client}
	if err := waitHealthy(context.Background(), env, []ObjectRef{{Kind: "Deployment", Namespace: ns, Name: name}}, 90*time.Second); err != nil {
		t.Fatalf("deployment %s/%s: %v", ns, name, err)
	}
}

func podsOf(t *testing.T, ns, selector string) []corev1.Pod {
	t.Helper()
	list, err := shared.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := shared.Client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// specJSON is an object's spec as JSON, to compare before and after exactly.
func specJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func params(fp spec.FaultParams, given ...string) Params {
	return Params{FaultParams: fp, Given: given}
}

func ptr[T any](v T) *T { return &v }

func restConfig(t *testing.T) *rest.Config {
	t.Helper()
	cfg, err := kube.RESTConfig(shared.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
