package scenario

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/delivery"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// readText reads a markdown file of the scenario with its placeholders replaced.
func readText(sc *Scenario, file string, values map[string]string) (string, error) {
	data, err := fs.ReadFile(sc.Files, spec.CleanScenarioPath(file))
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "reading "+file+" of scenario "+sc.Metadata.Name, "")
	}
	return strings.TrimSpace(spec.ExpandPlaceholders(string(data), values)), nil
}

// describeAction is an action in a few words, for progress and instructors.
func describeAction(a *spec.Action) string {
	switch {
	case a.Apply != "":
		return "apply " + a.Apply
	case a.Delete != nil:
		return fmt.Sprintf("delete %s %s/%s", strings.ToLower(a.Delete.Kind), a.Delete.Namespace, a.Delete.Name)
	case a.Helm != nil:
		return describeHelm(a.Helm)
	case a.Fault != nil:
		return "chaos: " + describeFault(a.Fault)
	case a.HTTP != nil:
		return fmt.Sprintf("%s %s/%s%s", a.HTTP.Method, a.HTTP.Namespace, a.HTTP.Service, a.HTTP.Path)
	case a.Rollout != nil && a.Rollout.Action == spec.RolloutWaitHealthy:
		return fmt.Sprintf("wait until rollout %s/%s is Healthy", a.Rollout.Namespace, a.Rollout.Name)
	case a.Rollout != nil:
		return fmt.Sprintf("lab delivery %s %s -n %s", a.Rollout.Action, a.Rollout.Name, a.Rollout.Namespace)
	}
	return "nothing"
}

// describeHelm is the helm command an action amounts to.
func describeHelm(h *spec.HelmAction) string {
	s := "helm " + h.Action + " " + h.Release
	switch {
	case h.Chart != "":
		s += " " + h.Chart
	case h.BundledChart != "":
		s += " (lab's chart " + h.BundledChart + ")"
	case h.Revision > 0:
		s += fmt.Sprint(" ", h.Revision)
	}
	if len(h.Values) > 0 {
		s += " with values " + compactJSON(h.Values)
	}
	return s + " -n " + h.Namespace
}

// runActions runs actions in order as progress steps; phase names them ("setup").
func (e *Engine) runActions(ctx context.Context, c *clients, sc *Scenario, phase string, actions []spec.Action) error {
	for i := range actions {
		a := &actions[i]
		name := phase + ": " + describeAction(a)
		if reason := e.skipReason(a); reason != "" {
			e.Events.Skip(name, reason)
			continue
		}
		if err := e.Events.Step(ctx, name, func(ctx context.Context) error { return e.runAction(ctx, c, sc, a) }); err != nil {
			return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("%s of scenario %s failed", phase, sc.Metadata.Name),
				"check the lab with `lab status`; `lab scenario reset` starts the scenario again")
		}
	}
	return nil
}

// skipReason says why an action cannot run on this lab: HTTP actions need a container
// to answer, which a simulated lab does not have.
func (e *Engine) skipReason(a *spec.Action) string {
	if a.HTTP != nil && e.Lab.Simulated {
		return grade.ErrSimulatedHTTP.Error()
	}
	if a.Rollout != nil && e.Lab.Simulated {
		return grade.ErrSimulatedRollouts.Error()
	}
	return ""
}

func (e *Engine) runAction(ctx context.Context, c *clients, sc *Scenario, a *spec.Action) error {
	switch {
	case a.Apply != "":
		applied, err := applyFiles(ctx, c, sc, a.Apply)
		if err != nil || !a.WaitsForRollout() {
			return err
		}
		return waitRollouts(ctx, c, applied)
	case a.Delete != nil:
		return c.deleteObject(ctx, a.Delete)
	case a.Helm != nil:
		return e.runHelm(ctx, sc, a.Helm)
	case a.Fault != nil:
		if e.Faults == nil {
			return fmt.Errorf("chaos is not available here")
		}
		_, err := e.Faults.RunFault(ctx, *a.Fault, "scenario "+sc.Metadata.Name)
		return err
	case a.HTTP != nil:
		if err := sleep(ctx, a.HTTP.Delay); err != nil {
			return err
		}
		return c.post(ctx, a.HTTP)
	case a.Rollout != nil:
		return judgeRollout(ctx, c, a.Rollout)
	}
	return nil
}

// judgeRollout answers a rollout's manual judgment; a promotion waits for the
// rollout to ask for one.
func judgeRollout(ctx context.Context, c *clients, r *spec.RolloutAction) error {
	d := &delivery.Client{Dynamic: c.Dynamic, Kube: c.Typed}
	if r.Action == spec.RolloutWaitHealthy {
		_, err := d.WaitHealthy(ctx, r.Namespace, r.Name, r.Timeout, 2*time.Second)
		return err
	}
	// A judgment is answered at a pause, once the controller has seen the version:
	// an abort sent before that is reset by its reconcile of the new spec.
	if r.Action == delivery.ActionPromote || r.Action == delivery.ActionAbort {
		if _, err := d.WaitPaused(ctx, r.Namespace, r.Name, r.Timeout, 2*time.Second); err != nil {
			return err
		}
	}
	_, err := d.Act(ctx, r.Namespace, r.Name, r.Action)
	return err
}

// applyFiles server-side applies every object of a manifest file or folder and returns
// the workloads among them.
func applyFiles(ctx context.Context, c *clients, sc *Scenario, name string) ([]kube.Workload, error) {
	files, err := spec.ManifestFiles(sc.Files, spec.CleanScenarioPath(name))
	if err != nil {
		return nil, err
	}
	var workloads []kube.Workload
	for _, f := range files {
		data, err := fs.ReadFile(sc.Files, f)
		if err != nil {
			return nil, err
		}
		objs, err := spec.ParseManifests(f, data)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			w, err := c.apply(ctx, obj, sc.Namespace())
			if err != nil {
				return nil, err
			}
			if kube.HasRollout(w.Kind) {
				workloads = append(workloads, w)
			}
		}
	}
	return workloads, nil
}

// rolloutTimeout bounds an apply action's wait for its workloads: a pulled image and a
// readiness probe or two, on a laptop.
const rolloutTimeout = 3 * time.Minute

// waitRollouts waits until the applied workloads have rolled out, so that the next
// action (a fault that picks among running pods, a check) finds what setup promised.
// The error names the workload and what it lacks, for the trainee; authors find
// `wait: false` in the scenario guide.
func waitRollouts(ctx context.Context, c *clients, ws []kube.Workload) error {
	if len(ws) == 0 {
		return nil
	}
	return kube.WaitRollouts(ctx, c.Typed, ws, rolloutTimeout)
}

func (e *Engine) runHelm(ctx context.Context, sc *Scenario, h *spec.HelmAction) error {
	_, err := stack.RunChartAction(ctx, e.Lab.Kubeconfig, stack.ChartAction{
		Verb: h.Action, Release: h.Release, Namespace: h.Namespace,
		Files: sc.Files, Dir: spec.CleanScenarioPath(h.Chart), Bundled: h.BundledChart,
		Values: h.Values, Revision: h.Revision,
	})
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// filesPath is where the trainee's copies of a scenario's files are.
func (e *Engine) filesPath() string { return filepath.Join(e.Lab.Dir, filesDir) }

// copyFiles copies the scenario's files for the trainee, replacing earlier copies. Links
// inside a handout are copied as the file they point to; links to folders are skipped.
func (e *Engine) copyFiles(sc *Scenario) error {
	dest := e.filesPath()
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	for _, f := range sc.Spec.Files {
		root := spec.CleanScenarioPath(f)
		err := fs.WalkDir(sc.Files, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			target := filepath.Join(dest, filepath.FromSlash(p))
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// A link (spec checked that it stays in the folder) is copied as what it
				// points to; a link to a folder is left out: it may loop.
				if info, err := fs.Stat(sc.Files, p); err == nil && info.IsDir() {
					return nil
				}
			}
			data, err := fs.ReadFile(sc.Files, p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			return errs.Wrap(errs.Internal, err, "copying the scenario's files", "")
		}
	}
	return nil
}
