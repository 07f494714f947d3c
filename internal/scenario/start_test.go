package scenario

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudnativelab/lab/internal/errs"
)

func namespaceExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := shared.Client.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestStartAsksBeforeReplacing: starting a scenario while another is in progress asks
// first; declined, nothing changes (state, namespace); accepted, the other one goes.
// Serial: "weak" and "wrong" are self-tested in parallel later.
func TestStartAsksBeforeReplacing(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	if _, err := e.Start(ctx, "weak", StartOptions{}); err != nil {
		t.Fatal(err)
	}
	var asked []string
	decline := func(q string) (bool, error) { asked = append(asked, q); return false, nil }
	_, err := e.Start(ctx, "wrong", StartOptions{Confirm: decline})
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "cancelled: nothing was changed") {
		t.Fatalf("declined start = %v, want cancelled (invalid)", err)
	}
	if len(asked) != 1 || !strings.Contains(asked[0], "Scenario weak is in progress on lab t (step 1 of 1, score 0/1)") || !strings.Contains(asked[0], "sc-weak") {
		t.Errorf("question = %q", asked)
	}
	if st, err := e.Status(ctx); err != nil || st.State.Scenario != "weak" || !namespaceExists(t, "sc-weak") || namespaceExists(t, "sc-wrong") {
		t.Errorf("after a declined start: status %+v, %v; want weak still running, its namespace kept, none for wrong", st, err)
	}

	res, err := e.Start(ctx, "wrong", StartOptions{Confirm: func(string) (bool, error) { return true, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced != "weak" || namespaceExists(t, "sc-weak") || !namespaceExists(t, "sc-wrong") {
		t.Errorf("accepted start: replaced %q, sc-weak exists %v; want weak replaced and gone", res.Replaced, namespaceExists(t, "sc-weak"))
	}
	asked = nil
	if _, err := e.Start(ctx, "wrong", StartOptions{Confirm: decline}); errs.KindOf(err) != errs.Invalid || len(asked) != 1 || !strings.Contains(asked[0], "Start it over?") {
		t.Errorf("restarting the one in progress = %v, asked %q; want the question and a cancel", err, asked)
	}
	if _, err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStartBesideBrokenSibling: a course folder with a broken scenario still starts
// its good ones. Serial: "tiny" is used by TestTraineeFlow and TestSelfTest.
func TestStartBesideBrokenSibling(t *testing.T) {
	ctx := context.Background()
	course := t.TempDir()
	copyFolder(t, "testdata/scenarios/tiny", filepath.Join(course, "tiny"))
	copyFolder(t, "../spec/testdata/scenario/bad/check-without-points", filepath.Join(course, "check-without-points"))
	e := newEngine(t)
	e.Source = course
	c, err := e.Catalog()
	if err != nil || len(c.Broken) != 1 || c.Broken[0].Folder != "check-without-points" || !strings.Contains(c.Broken[0].Err.Error(), "scenario.yaml:14") {
		t.Fatalf("catalog = %+v, %v; want tiny and one broken folder with its line", c, err)
	}
	if _, err := e.Start(ctx, "tiny", StartOptions{}); err != nil {
		t.Fatalf("start of the good scenario beside a broken one: %v", err)
	}
	if _, err := e.Start(ctx, "check-without-points", StartOptions{}); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "spec.steps[0].checks[0].points") {
		t.Errorf("start of the broken one = %v, want its problems", err)
	}
	if _, err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func copyFolder(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSymlinkedSetupNotApplied: on the real API server, a scenario whose setup folder
// holds a link to a manifest outside its folder is refused when loaded, and the object
// the outside manifest describes is never created.
func TestSymlinkedSetupNotApplied(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "ns.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: lab-escaped-by-link}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	course := filepath.Join(root, "course")
	copyFolder(t, "testdata/scenarios/tiny", filepath.Join(course, "linked"))
	scFile := filepath.Join(course, "linked", "scenario.yaml")
	data, err := os.ReadFile(scFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scFile, []byte(strings.Replace(string(data), "name: tiny", "name: linked", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../outside/ns.yaml", filepath.Join(course, "linked", "setup", "zz-outside.yaml")); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	e.Source = course
	_, err = e.Test(context.Background(), "linked", TestOptions{})
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "setup/zz-outside.yaml is a symbolic link to ../../../outside/ns.yaml, outside the scenario's folder") {
		t.Errorf("self-test of a scenario with a link out = %v, want it refused as invalid", err)
	}
	if namespaceExists(t, "lab-escaped-by-link") || namespaceExists(t, "sc-linked") {
		t.Error("the scenario was set up: the outside manifest or its namespace was applied")
	}
}
