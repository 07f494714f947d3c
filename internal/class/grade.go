package class

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/grade"
	"github.com/cloudnativelab/lab/internal/spec"
)

// DefaultWorkers is how many students' labs are graded at once by default.
const DefaultWorkers = 4

// Scoreboard is a class graded: one report per student, in the room's order.
type Scoreboard struct {
	Class string `json:"class"`
	// Checks names the checks file, or the scenario.
	Checks   string    `json:"checks"`
	GradedAt time.Time `json:"gradedAt"`
	// Steps are the scenario's step titles, for a scenario's scoreboard.
	Steps    []string       `json:"steps,omitempty"`
	Students []StudentScore `json:"students"`
}

// StudentScore is one student's grade.
type StudentScore struct {
	Student string        `json:"student"`
	Lab     string        `json:"lab"`
	Report  *grade.Report `json:"report,omitempty"`
	// Steps are the student's points per step, for a scenario's scoreboard.
	Steps []StepScore `json:"steps,omitempty"`
	// Error says why the student's lab could not be graded at all (no Report then).
	Error string `json:"error,omitempty"`
	// LastProgress is when the student's points last went up (the class's start
	// until they first do); SinceProgress is how long ago that was, at GradedAt.
	LastProgress         time.Time     `json:"lastProgress"`
	SinceProgress        time.Duration `json:"-"`
	SinceProgressSeconds int64         `json:"sinceProgressSeconds"`
}

// Grade evaluates the checks against every student's lab, Workers at a time. A lab that
// cannot be reached makes that student's checks errors, and no one else's. A student
// whose points went up has made progress now.
func (e *Engine) Grade(ctx context.Context, name string, checks *spec.Checks) (*Scoreboard, error) {
	c, err := e.Load(name)
	if err != nil {
		return nil, err
	}
	board := &Scoreboard{Class: c.Name, Checks: checks.Metadata.Name, Students: make([]StudentScore, len(c.Students))}
	e.forEachStudent(c, func(i int, s Student) {
		board.Students[i] = StudentScore{Student: s.Name, Lab: s.Lab, Report: e.gradeLab(ctx, s.Lab, checks)}
	})
	if ctx.Err() != nil {
		return nil, &errs.Error{Kind: errs.Interrupted, Msg: "interrupted", Err: ctx.Err()}
	}
	board.GradedAt = e.now().UTC()
	e.recordProgress(c, board)
	return board, e.save(c)
}

// gradeLab grades one lab; whatever stops it from being reached is every check's error.
func (e *Engine) gradeLab(ctx context.Context, labName string, checks *spec.Checks) *grade.Report {
	conn := grade.ConnectOptions{}
	r, err := e.Labs.Resolve(ctx, labName)
	if err != nil {
		conn.KubeconfigErr = err
	} else {
		conn.Simulated = r.Status.Simulated
		conn.Kubeconfig, conn.KubeconfigErr = r.AdminKubeconfig, r.KubeconfigErr
	}
	targets, closeTargets, err := grade.Connect(ctx, conn, checks.Spec.Checks)
	if err != nil {
		return erroredReport(checks, err)
	}
	defer closeTargets()
	g := &grade.Grader{Targets: targets, Workers: 1}
	return g.Run(ctx, checks.Metadata.Name, checks.Spec.Checks)
}

// erroredReport is a report in which every check could not be evaluated, for why.
func erroredReport(checks *spec.Checks, why error) *grade.Report {
	results := make([]grade.Result, len(checks.Spec.Checks))
	for i, ch := range checks.Spec.Checks {
		results[i] = grade.Result{ID: ch.ID, Description: ch.Description, Type: ch.Type(), Severity: ch.Severity,
			Outcome: grade.Error, Points: ch.Points, Error: why.Error()}
	}
	return grade.NewReport(checks.Metadata.Name, results, 0)
}

// Awarded is the student's points, none when the lab could not be graded.
func (s StudentScore) Awarded() int {
	if s.Report == nil {
		return 0
	}
	return s.Report.Score.Awarded
}

// recordProgress moves each student's best points and the time they were reached.
func (e *Engine) recordProgress(c *Class, board *Scoreboard) {
	for i := range c.Students {
		s, score := &c.Students[i], &board.Students[i]
		if awarded := score.Awarded(); awarded > s.Best {
			s.Best, s.Progress = awarded, board.GradedAt
		}
		score.LastProgress = s.Progress
		score.SinceProgress = board.GradedAt.Sub(s.Progress).Round(time.Second)
		score.SinceProgressSeconds = int64(score.SinceProgress / time.Second)
	}
}

// Err is the class's exit status as lab grade's: a check of any student that could not
// be evaluated (exit 4) wins over one that failed (exit 3).
func (b *Scoreboard) Err() error {
	failed, errored := 0, 0
	for _, s := range b.Students {
		if s.Report == nil {
			errored++
			continue
		}
		switch errs.KindOf(s.Report.Err()) {
		case errs.ChecksErrored:
			errored++
		case errs.ChecksFailed:
			failed++
		}
	}
	switch {
	case errored > 0:
		return errs.New(errs.ChecksErrored, fmt.Sprintf("%d of %d students have checks that could not be evaluated", errored, len(b.Students)),
			"the ERRORS column and the report say why (a lab that does not answer: `lab status --name <lab>`)")
	case failed > 0:
		return errs.New(errs.ChecksFailed, fmt.Sprintf("%d of %d students have failed checks", failed, len(b.Students)), "")
	}
	return nil
}
