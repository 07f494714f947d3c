package lab

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

func TestAdoptingAnotherLabsClusterIsRefused(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.UserKubeconfig = shared.KubeconfigPath
	ctx := context.Background()
	cleanupLab(t, m, "first-owner")
	if _, err := m.Up(ctx, UpOptions{Lab: simLab(t, "first-owner", 1), Provider: "existing", Context: "testenv"}); err != nil {
		t.Fatalf("first adoption: %v", err)
	}
	// The same cluster again under another lab name, and through the current context
	// (no --context): both are the first lab's cluster.
	for _, context := range []string{"testenv", ""} {
		_, err := m.Up(ctx, UpOptions{Lab: simLab(t, "second-owner", 1), Provider: "existing", Context: context})
		if errs.KindOf(err) != errs.Invalid {
			t.Fatalf("adopting %q twice: err = %v, want invalid input (exit 2)", context, err)
		}
		for _, want := range []string{`context "testenv" is the cluster lab "first-owner" already adopted`, "another lab's cluster"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if !strings.Contains(errs.HintOf(err), "lab stacks add --name first-owner") {
			t.Errorf("hint %q does not point at the lab that owns it", errs.HintOf(err))
		}
	}
	if names, _ := m.Names(); len(names) != 1 {
		t.Fatalf("a refused adoption left a record: %v", names)
	}
	// Re-running up of the owner itself is not an adoption of another lab's cluster.
	if _, err := m.Up(ctx, UpOptions{Lab: simLab(t, "first-owner", 1), Provider: "existing", Context: "testenv"}); err != nil {
		t.Fatalf("up of the adopting lab again: %v", err)
	}
}

func TestAdoptingAsksBeforeInstallingStacks(t *testing.T) {
	t.Parallel()
	m := newManager(t, nil)
	m.UserKubeconfig = shared.KubeconfigPath
	m.Catalog = testCatalog(webStack("asked-web", nil))
	asked := ""
	_, err := m.Up(context.Background(), UpOptions{Lab: labWithStacks(t, "asked", "existing", "asked-web"), Context: "testenv",
		Confirm: func(q string) (bool, error) { asked = q; return false, nil }})
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "cancelled: nothing was changed") {
		t.Fatalf("declined install: err = %v, want cancelled with exit 2", err)
	}
	for _, want := range []string{"Install asked-web", `context "testenv"`, "a cluster lab did not create"} {
		if !strings.Contains(asked, want) {
			t.Errorf("question %q lacks %q", asked, want)
		}
	}
	if names, _ := m.Names(); len(names) != 0 {
		t.Fatalf("a declined adoption left a record: %v", names)
	}
	if _, err := shared.Client.CoreV1().Namespaces().Get(context.Background(), "asked-web", metav1.GetOptions{}); err == nil {
		t.Fatal("a declined adoption installed the stack's namespace")
	}
}
