package delivery_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// lab chaos's bad-rollout of a Rollout ships a misbehaving version through the real
// controller, which holds it at the canary's pause; the revert puts the stable pod
// template back, and the controller returns to the stable version at once.
func TestBadRolloutOfARollout(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	applyObject(t, delivery.RolloutsResource, ns, rollout("shop", "v1", canaryWithPause))
	stable := waitFor(t, ns, "shop", "healthy at v1", healthy).StableHash
	before, err := client().PodTemplate(context.Background(), ns, "shop")
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	e := &chaos.Engine{Events: event.NewEmitter(event.Discard)}
	l := &chaos.Lab{Name: "delivery-test", Simulated: true, Running: true, Context: "testenv",
		Kubeconfig: shared.Kubeconfig, JournalDir: t.TempDir()}
	p := chaos.Params{FaultParams: spec.FaultParams{Namespace: ns, Target: "rollout/shop", Mode: "args", Args: []string{"--random-error=true"}},
		Given: []string{"namespace", "target", "mode", "args"}}
	plan, env, f, err := e.Plan(ctx, l, chaos.RunOptions{Fault: "bad-rollout", Params: p, Limits: chaos.DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := e.Start(ctx, env, f, plan, chaos.RunOptions{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bad := waitFor(t, ns, "shop", "paused with the bad version as canary", func(ro *delivery.Rollout) bool {
		return ro.CurrentHash != stable && slices.Contains(ro.Paused, "CanaryPauseStep")
	})
	if bad.StableHash != stable {
		t.Errorf("stable version changed to %s during the fault (was %s)", bad.StableHash, stable)
	}
	during, err := client().PodTemplate(ctx, ns, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if args := during.Spec.Spec.Containers[0].Args; !slices.Equal(args, []string{"--random-error=true"}) {
		t.Errorf("container args while broken = %q", args)
	}

	if err := e.Stop(ctx, env, f, entry); err != nil {
		t.Fatal(err)
	}
	back := waitFor(t, ns, "shop", "back on the stable version", healthy)
	if back.StableHash != stable || back.CurrentHash != stable {
		t.Errorf("after the revert: stable %s current %s, want both %s (the old version, not a new one)", back.StableHash, back.CurrentHash, stable)
	}
	after, err := client().PodTemplate(ctx, ns, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after.Spec.Spec.Containers[0].Args, before.Spec.Spec.Containers[0].Args) || after.Spec.Spec.Containers[0].Image != before.Spec.Spec.Containers[0].Image {
		t.Errorf("pod template after the revert = %+v, want %+v", after.Spec.Spec.Containers[0], before.Spec.Spec.Containers[0])
	}
}

// The shipped gameday gamedays/bad-canary.yaml, run against a canary whose analysis
// reads a real Prometheus: the bad version's errors fail the analysis, the controller
// aborts, the drill times the detection, and the fault's revert brings the rollout back
// to health, which is the recovery. The cluster is simulated but the Rollouts
// controller is real, so the lab is declared real for the rollout checks to run.
func TestBadCanaryGameday(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	applyObject(t, delivery.RolloutsResource, ns, rollout("backend", "v1", canaryWithAnalysis("shop-success-rate", ns, "backend")))
	stable := waitFor(t, ns, "backend", "healthy at v1", healthy).StableHash
	feed(t, ns, "backend", stable, traffic{ok: 10, latency: 0.05})

	data, err := os.ReadFile(filepath.Join("..", "..", "gamedays", "bad-canary.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// This namespace, and a shorter fault: the test's analysis starts after 2s.
	doc := strings.ReplaceAll(string(data), "namespace: demo-shop", "namespace: "+ns)
	doc = strings.Replace(doc, "duration: 4m", "duration: 50s", 1)
	g, err := spec.LoadGameday("bad-canary.yaml", []byte(doc), chaos.CheckFault)
	if err != nil {
		t.Fatal(err)
	}
	l := &chaos.Lab{Name: "delivery-test", Running: true, Context: "testenv", Kubeconfig: shared.Kubeconfig, JournalDir: t.TempDir()}
	e := &chaos.Engine{Events: event.NewEmitter(event.Discard)}
	type outcome struct {
		rep *chaos.GamedayReport
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := e.Gameday(context.Background(), l, chaos.GamedayOptions{Gameday: g, File: "bad-canary.yaml"})
		done <- outcome{rep, err}
	}()
	canary := waitFor(t, ns, "backend", "rolling out the bad version", func(ro *delivery.Rollout) bool {
		return ro.Observed && ro.CurrentHash != "" && ro.CurrentHash != stable
	})
	feed(t, ns, "backend", canary.CurrentHash, traffic{ok: 5, failed: 5, latency: 0.05})

	var res outcome
	select {
	case res = <-done:
	case <-time.After(4 * time.Minute):
		t.Fatal("the gameday did not end within 4 minutes")
	}
	if res.err != nil || res.rep.Outcome != chaos.GamedayPassed {
		t.Fatalf("gameday: %v, report %+v", res.err, res.rep)
	}
	f := res.rep.Faults[0]
	if f.TimeToDetect == nil || f.TimeToRecover == nil || *f.TimeToRecover <= *f.TimeToDetect {
		t.Fatalf("fault %+v: want a time to detect, and a later time to recover", f)
	}
	// Detected by the analysis: the abort it caused (steady state) or its failed run
	// (detect check), not by a look at the rollout while it was only starting.
	if !strings.Contains(f.DetectedBy, "Failed") && f.DetectedBy != "detect: analysis-failed" {
		t.Errorf("detected by %q, want the failed analysis", f.DetectedBy)
	}
	if *f.TimeToDetect >= 50*time.Second {
		t.Errorf("detected after %s, not while the fault held (50s)", *f.TimeToDetect)
	}
	back := waitFor(t, ns, "backend", "healthy on the stable version", healthy)
	if back.StableHash != stable {
		t.Errorf("stable %s after the drill, want the first version %s", back.StableHash, stable)
	}
	t.Logf("time to detect %s (by %s), time to recover %s", *f.TimeToDetect, f.DetectedBy, *f.TimeToRecover)
}
