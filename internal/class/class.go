// Package class runs a class: one lab per student, all of one definition, brought up,
// graded and removed together, for an instructor with a room (a workshop machine with
// kind or sim labs, or one cloud cluster each through terraform).
//
// A class is recorded before its labs are made (state dir, classes/<name>.json), so an
// interrupted `lab class up` is finished by running it again (each lab's up resumes)
// and `lab class down` removes every lab it may have started.
package class

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/state"
)

// MaxStudents bounds a class: more labs than a room, or a machine, holds.
const MaxStudents = 50

// Engine runs classes on the labs of a lab.Manager.
type Engine struct {
	Labs *lab.Manager
	// Workers bounds how many students' labs are graded at once (default 4).
	Workers int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Class is the record of a class.
type Class struct {
	Name string `json:"name"`
	// Definition names the lab definition the students' labs were made from.
	Definition string    `json:"definition"`
	Created    time.Time `json:"created"`
	// OutDir holds a kubeconfig (and a login card) per student.
	OutDir   string    `json:"outDir"`
	Students []Student `json:"students"`
}

// Student is one student's lab and progress.
type Student struct {
	Name string `json:"name"`
	Lab  string `json:"lab"`
	// Kubeconfig is the student's kubeconfig file, in the class's OutDir.
	Kubeconfig string `json:"kubeconfig"`
	// Card is the student's login card, when cards were written.
	Card string `json:"card,omitempty"`
	// Best is the most points a grading has awarded; Progress when it was first
	// awarded (the class's creation until a grading awards any).
	Best     int       `json:"best"`
	Progress time.Time `json:"progress"`
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) path(name string) string {
	return filepath.Join(e.Labs.StateDir, "classes", name+".json")
}

// Load reads a class record; a class that does not exist is an Invalid error.
func (e *Engine) Load(name string) (*Class, error) {
	var c Class
	err := state.ReadJSON(e.path(name), &c)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Invalidf("bring it up with `lab class up --name "+name+" --students N`", "no class %q", name)
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (e *Engine) save(c *Class) error {
	if err := os.MkdirAll(filepath.Dir(e.path(c.Name)), 0o700); err != nil {
		return err
	}
	return state.WriteJSON(e.path(c.Name), c, 0o600)
}

// studentNames are student01, student02, ...: they sort in the order of the room.
func studentNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("student%02d", i+1)
	}
	return names
}

// labName is a student's lab: <class>-<student>.
func labName(class, student string) string { return class + "-" + student }

// validate checks a class name and size before anything is made: every student's lab
// name must be a valid lab name.
func (e *Engine) validate(name string, students int) error {
	if students < 1 || students > MaxStudents {
		return errs.Invalidf("", "--students must be between 1 and %d, got %d", MaxStudents, students)
	}
	last := labName(name, studentNames(students)[students-1])
	if err := lab.ValidateName(last); err != nil {
		return errs.Invalidf("a class name is a lab name of at most "+fmt.Sprint(spec.MaxNameLength-len("-student00"))+" characters",
			"class name %q: its labs would be named like %s: %v", name, last, err)
	}
	return nil
}

// Down removes every student's lab, then the class record and the files it wrote. A
// lab that cannot be removed stops it, with the class still recorded, so that running
// it again finishes.
func (e *Engine) Down(ctx context.Context, name string) (*Class, error) {
	c, err := e.Load(name)
	if err != nil {
		return nil, err
	}
	for _, s := range c.Students {
		if _, err := e.Labs.Down(ctx, s.Lab); err != nil {
			return nil, fmt.Errorf("removing %s's lab %s: %w", s.Name, s.Lab, err)
		}
		for _, f := range []string{s.Kubeconfig, s.Card} {
			if f != "" {
				if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, err
				}
			}
		}
	}
	return c, os.Remove(e.path(name))
}
