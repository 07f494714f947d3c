package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// stubFaultCheck stands in for the chaos package's CheckFault, which this package cannot
// import: it knows two faults and one rule, enough to see problems land on their lines
// (the real checker is tested with these files in internal/chaos).
func stubFaultCheck(f Fault) map[string]string {
	out := map[string]string{}
	if f.Type != "pod-kill" && f.Type != "scale" {
		out["type"] = "unknown fault " + f.Type
	}
	if slices.Contains(f.Given, "count") && f.Count < 1 {
		out["count"] = "must be at least 1"
	}
	if f.Type == "scale" && slices.Contains(f.Given, "key") {
		out["key"] = "does not apply to scale"
	}
	return out
}

func TestLoadGamedayGood(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/gameday/good/drill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := LoadGameday("drill.yaml", data, stubFaultCheck)
	if err != nil {
		t.Fatal(err)
	}
	s := g.Spec
	if *s.Seed != 42 || s.SteadyState.ProbeInterval != time.Second || s.Recovery.Timeout != 5*time.Minute || s.Abort.FailingFor != 3*time.Minute {
		t.Errorf("spec = %+v", s)
	}
	first, second := s.Timeline[0], s.Timeline[1]
	if first.ID != "1-pod-kill" || first.Duration != 0 || first.Count != 2 || !slices.Equal(first.Given, []string{"namespace", "selector", "count"}) {
		t.Errorf("first fault = %+v", first)
	}
	if second.ID != "backend-down" || second.At != time.Minute || *second.Replicas != 0 || second.Duration != 45*time.Second {
		t.Errorf("second fault = %+v", second)
	}
	if c := s.SteadyState.Checks[0]; c.Timeout != DefaultCheckTimeout || c.Severity != SeverityError {
		t.Errorf("steady-state check not defaulted: %+v", c)
	}
	if len(s.Detect) != 1 || s.Detect[0].Alert.State != AlertFiring || len(s.Abort.When) != 1 {
		t.Errorf("detect %+v, abort %+v", s.Detect, s.Abort)
	}
}

func TestLoadGamedayDefaults(t *testing.T) {
	t.Parallel()
	const doc = `apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Gameday
metadata: {name: minimal}
spec:
  steadyState:
    checks: [{id: up, resource: {apiVersion: v1, kind: Namespace, name: default}}]
  timeline: [{at: 0s, type: scale, target: deploy/web, replicas: 0}]
`
	g, err := LoadGameday("minimal.yaml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := g.Spec
	if s.SteadyState.ProbeInterval != DefaultProbeInterval || s.Recovery.Timeout != DefaultRecoveryTimeout ||
		s.Timeline[0].Duration != DefaultFaultDuration || s.Timeline[0].ID != "1-scale" || s.Seed != nil || s.Abort.FailingFor != 0 {
		t.Errorf("defaults = %+v", s)
	}
}

// TestLoadGamedayBadFiles compares the errors for each testdata/gameday/bad/X.yaml with
// X.err (go test -update rewrites them).
func TestLoadGamedayBadFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/gameday/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad gameday files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadGameday(file, data, stubFaultCheck)
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("err = %v, want invalid input", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, file+":") {
					t.Errorf("a problem without file:line: %q", line)
				}
			}
			compareGolden(t, strings.TrimSuffix(file, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

func TestLoadGamedayFileMissing(t *testing.T) {
	t.Parallel()
	_, err := LoadGamedayFile("testdata/gameday/none.yaml", nil)
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
}
