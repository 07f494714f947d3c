package class

import (
	"context"
	"fmt"
	"sync"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/scenario"
)

// ScenarioEngines gives the scenario engine of a student's lab (the factory's).
type ScenarioEngines func(ctx context.Context, lab string) (*scenario.Engine, error)

// StepScore is one step of a scenario for one student.
type StepScore struct {
	Title   string `json:"title"`
	Awarded int    `json:"awarded"`
	Points  int    `json:"points"`
	Passed  bool   `json:"passed"`
}

// StartScenario starts the scenario in every student's lab, one after the other (its
// setup may install stacks). It stops at the first lab where it cannot start; running
// it again starts the others (and asks, through confirm, before starting over one in
// progress).
func (e *Engine) StartScenario(ctx context.Context, name, scenarioName string, engines ScenarioEngines, confirm func(string) (bool, error)) (*Class, error) {
	c, err := e.Load(name)
	if err != nil {
		return nil, err
	}
	for _, s := range c.Students {
		se, err := engines(ctx, s.Lab)
		if err == nil {
			_, err = se.Start(ctx, scenarioName, scenario.StartOptions{Confirm: confirm})
		}
		if err != nil {
			return nil, fmt.Errorf("starting %s in %s's lab %s: %w", scenarioName, s.Name, s.Lab, err)
		}
	}
	return c, nil
}

// GradeScenario grades every step of the scenario running in each student's lab, at
// one moment and without moving anyone on: a scoreboard with a column per step. A lab
// that cannot be graded (down, or no scenario running) is that student's error.
func (e *Engine) GradeScenario(ctx context.Context, name string, engines ScenarioEngines) (*Scoreboard, error) {
	c, err := e.Load(name)
	if err != nil {
		return nil, err
	}
	board := &Scoreboard{Class: c.Name, Students: make([]StudentScore, len(c.Students))}
	e.forEachStudent(c, func(i int, s Student) {
		score := StudentScore{Student: s.Name, Lab: s.Lab}
		rep, err := progressOf(ctx, engines, s.Lab)
		if err != nil {
			score.Error = err.Error()
		} else {
			score.Report, score.Steps = flatten(rep)
		}
		board.Students[i] = score
	})
	if ctx.Err() != nil {
		return nil, &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
	}
	board.Checks, board.Steps = scenarioOf(board)
	board.GradedAt = e.now().UTC()
	e.recordProgress(c, board)
	return board, e.save(c)
}

func progressOf(ctx context.Context, engines ScenarioEngines, lab string) (*scenario.ProgressReport, error) {
	se, err := engines(ctx, lab)
	if err != nil {
		return nil, err
	}
	return se.Progress(ctx)
}

// flatten is a scenario's progress as one report of all its checks (for points and
// exit codes) and its steps' scores. A check skipped on a simulated lab stays
// "skipped": it is not failed, and it earns nothing.
func flatten(rep *scenario.ProgressReport) (*grade.Report, []StepScore) {
	var results []grade.Result
	var steps []StepScore
	for _, st := range rep.Steps {
		steps = append(steps, StepScore{Title: st.Title, Awarded: st.Awarded, Points: st.Points, Passed: st.Passed})
		for _, c := range st.Checks {
			r := c.Result
			r.Outcome = grade.Outcome(c.Outcome)
			results = append(results, r)
		}
	}
	return grade.NewReport(rep.Scenario, results, 0), steps
}

// scenarioOf is the scenario's name and step titles, from the first student graded.
func scenarioOf(board *Scoreboard) (string, []string) {
	for _, s := range board.Students {
		if s.Report == nil {
			continue
		}
		titles := make([]string, len(s.Steps))
		for i, st := range s.Steps {
			titles[i] = st.Title
		}
		return s.Report.Name, titles
	}
	return "", nil
}

// forEachStudent runs fn for every student, Workers at a time.
func (e *Engine) forEachStudent(c *Class, fn func(i int, s Student)) {
	workers := e.Workers
	if workers < 1 {
		workers = DefaultWorkers
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, s := range c.Students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(i, s)
		}()
	}
	wg.Wait()
}
