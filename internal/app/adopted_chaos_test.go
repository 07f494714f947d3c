package app

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/testenv"
)

// TestDownOfAnAdoptedLabRevertsItsChaos: a fault left active on an adopted cluster (its
// `lab chaos run` killed) is reverted by `lab down`, which otherwise would delete the
// journal and leave the fault behind on a cluster that outlives the lab.
func TestDownOfAnAdoptedLabRevertsItsChaos(t *testing.T) {
	bin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.PrivateEnv(t)
	env["LAB_SIM_BIN_DIR"] = bin
	// The cluster to adopt: a sim lab without stacks, made by another state dir (lab
	// refuses to adopt the cluster of a lab of its own).
	baseEnv := maps.Clone(env)
	baseEnv["LAB_STATE_DIR"] = t.TempDir()
	base := writeLab(t, "base")
	t.Cleanup(func() { runLab(t, baseEnv, "down", "--name", "base") })
	if code, _, stderr := runLab(t, baseEnv, "up", "-f", base); code != 0 {
		t.Fatalf("up base: %s", stderr)
	}
	if code, _, stderr := runLab(t, env, "up", "-f", base, "--name", "adopted", "--provider", "existing", "--context", "lab-base", "--allow-chaos"); code != 0 {
		t.Fatalf("adopt: %s", stderr)
	}
	_, stdout, _ := runLab(t, baseEnv, "kubeconfig", "--name", "base")
	cs, err := kube.Clientset([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	createDeployment(t, cs, "default", "web", 3)

	// Inject with a real `lab chaos run` process, then kill it: the fault stays active.
	lab := buildLab(t)
	run := exec.Command(lab, "chaos", "run", "scale", "--name", "adopted", "-n", "default", "--target", "deployment/web", "--replicas", "1", "--duration", "5m", "--yes")
	for k, v := range env {
		run.Env = append(run.Env, k+"="+v)
	}
	run.Env = append(os.Environ(), run.Env...)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	waitReplicas(t, cs, "web", 1)
	run.Process.Kill()
	run.Wait()

	code, _, stderr := runLab(t, env, "down", "--name", "adopted")
	if code != 0 {
		t.Fatalf("down adopted = %d:\n%s", code, stderr)
	}
	d, err := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 3 {
		t.Fatalf("after lab down the fault is still there: %d replicas, want 3", *d.Spec.Replicas)
	}
	for k := range d.Annotations {
		if strings.HasPrefix(k, "lab.cloudnativelab.io/chaos") {
			t.Fatalf("chaos annotation %s left on the deployment", k)
		}
	}
}

func writeLab(t *testing.T, name string) string {
	t.Helper()
	path := t.TempDir() + "/" + name + ".yaml"
	doc := "apiVersion: lab.cloudnativelab.io/v1alpha1\nkind: Lab\nmetadata: {name: " + name + "}\nspec:\n  cluster: {provider: sim}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func createDeployment(t *testing.T, cs kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitReplicas(t *testing.T, cs kubernetes.Interface, name string, want int32) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && d.Spec.Replicas != nil && *d.Spec.Replicas == want, nil
	})
	if err != nil {
		t.Fatalf("deployment %s never had %d replicas: %v", name, want, err)
	}
}
