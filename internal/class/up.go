package class

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
)

// UpOptions say what class to bring up.
type UpOptions struct {
	Name     string
	Students int
	// Lab is the definition every student's lab is made from; Source names it.
	Lab    *spec.Lab
	Source string
	// Provider overrides the definition's provider (kind, sim, terraform).
	Provider string
	// OutDir gets a kubeconfig per student, and a login card with Cards.
	OutDir string
	Cards  bool
	// Confirm is passed to each lab's up (terraform asks before applying).
	Confirm func(question string) (bool, error)
}

// Up brings up one lab per student, one after the other (each is a whole cluster: a
// workshop machine has the cores for one start at a time), then writes each student's
// kubeconfig and card. Running it again on a class that exists finishes what is not
// done; its size and definition cannot change (down it first).
func (e *Engine) Up(ctx context.Context, opts UpOptions) (*Class, error) {
	if err := e.validate(opts.Name, opts.Students); err != nil {
		return nil, err
	}
	c, err := e.record(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.OutDir, 0o700); err != nil {
		return nil, err
	}
	for i := range c.Students {
		s := &c.Students[i]
		_, err := e.Labs.Up(ctx, lab.UpOptions{Lab: opts.Lab, Name: s.Lab, Source: opts.Source, Provider: opts.Provider, Confirm: opts.Confirm})
		if err != nil {
			return nil, fmt.Errorf("bringing up %s's lab %s (run lab class up again to finish): %w", s.Name, s.Lab, err)
		}
		if err := e.writeStudentFiles(c, s, opts.Cards); err != nil {
			return nil, err
		}
		if err := e.save(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// record is the class's record: the one there is, when its size and definition match,
// else a new one, saved before any lab is made.
func (e *Engine) record(opts UpOptions) (*Class, error) {
	def := definitionName(opts)
	if old, err := e.Load(opts.Name); err == nil {
		if len(old.Students) != opts.Students || old.Definition != def {
			return nil, errs.Invalidf("`lab class down --name "+opts.Name+"` first",
				"class %q exists with %d students of %s; asked for %d of %s", opts.Name, len(old.Students), old.Definition, opts.Students, def)
		}
		return old, nil
	}
	out, err := filepath.Abs(opts.OutDir)
	if err != nil {
		return nil, err
	}
	c := &Class{Name: opts.Name, Definition: def, Created: e.now().UTC(), OutDir: out}
	for _, name := range studentNames(opts.Students) {
		c.Students = append(c.Students, Student{Name: name, Lab: labName(opts.Name, name), Progress: c.Created})
	}
	return c, e.save(c)
}

func definitionName(opts UpOptions) string {
	if opts.Source != "" {
		return opts.Source
	}
	return opts.Lab.Metadata.Name
}

// writeStudentFiles writes the student's kubeconfig (0600: it is admin access) and
// login card.
func (e *Engine) writeStudentFiles(c *Class, s *Student, cards bool) error {
	data, err := e.Labs.Kubeconfig(s.Lab)
	if err != nil {
		return err
	}
	s.Kubeconfig = filepath.Join(c.OutDir, s.Name+".kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, data, 0o600); err != nil {
		return err
	}
	if !cards {
		return nil
	}
	s.Card = filepath.Join(c.OutDir, s.Name+".md")
	return os.WriteFile(s.Card, []byte(card(c, s)), 0o600)
}

// card is a student's login card: which lab is theirs and the first commands.
func card(c *Class, s *Student) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n\n", c.Name, s.Name)
	fmt.Fprintf(&b, "Your lab is `%s`, a cluster of your own made from `%s`.\n\n", s.Lab, c.Definition)
	b.WriteString("Use it with the kubeconfig file `" + filepath.Base(s.Kubeconfig) + "` you were given:\n\n")
	fmt.Fprintf(&b, "    export KUBECONFIG=$PWD/%s\n", filepath.Base(s.Kubeconfig))
	b.WriteString("    kubectl get nodes\n")
	b.WriteString("    kubectl get pods -A\n\n")
	b.WriteString("Your instructor grades every lab of the class at once (`lab class grade`) and\n")
	b.WriteString("shows the scoreboard: work in your own cluster only.\n")
	return b.String()
}
