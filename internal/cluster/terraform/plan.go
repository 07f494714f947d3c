package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/cloudnativelab/lab/internal/event"
)

// planSummary counts a plan's resource changes as terraform's own summary line does.
type planSummary struct{ add, change, destroy int }

func (s planSummary) String() string {
	return fmt.Sprintf("%d to add, %d to change, %d to destroy", s.add, s.change, s.destroy)
}

func summarize(plan *tfjson.Plan) planSummary {
	var s planSummary
	for _, rc := range plan.ResourceChanges {
		if rc.Change == nil || rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		a := rc.Change.Actions
		switch {
		case a.Replace():
			s.add++
			s.destroy++
		case a.Create():
			s.add++
		case a.Update():
			s.change++
		case a.Delete():
			s.destroy++
		}
	}
	return s
}

// progress turns terraform's machine-readable output (-json) into events: one per
// resource that is done being created, changed or destroyed. It keeps the error
// diagnostics, which -json writes there and not to stderr.
type progress struct {
	ev     *event.Emitter
	buf    bytes.Buffer
	errors []string
}

func newProgress(ev *event.Emitter) *progress { return &progress{ev: ev} }

func (p *progress) Write(b []byte) (int, error) {
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil { // no full line yet: keep it for the next write
			p.buf.Reset()
			p.buf.Write(line)
			return len(b), nil
		}
		p.line(line)
	}
}

func (p *progress) line(line []byte) {
	var msg struct {
		Type       string `json:"type"`
		Level      string `json:"@level"`
		Message    string `json:"@message"`
		Diagnostic struct {
			Detail string `json:"detail"`
			Range  *struct {
				Filename string `json:"filename"`
				Start    struct{ Line int }
			} `json:"range"`
		} `json:"diagnostic"`
	}
	if json.Unmarshal(line, &msg) != nil {
		return
	}
	switch {
	case msg.Type == "apply_complete":
		p.ev.Info("terraform: " + strings.TrimSpace(msg.Message))
	case msg.Type == "diagnostic" && msg.Level == "error":
		text := strings.TrimSpace(msg.Message)
		if d := strings.TrimSpace(msg.Diagnostic.Detail); d != "" {
			text += ": " + d
		}
		if r := msg.Diagnostic.Range; r != nil {
			text = fmt.Sprintf("%s:%d: %s", r.Filename, r.Start.Line, text)
		}
		p.errors = append(p.errors, text)
	}
}

// err is what terraform said went wrong, in place of err when it said something.
func (p *progress) err(err error) error {
	if err == nil || len(p.errors) == 0 {
		return err
	}
	return errors.New(strings.Join(p.errors, "\n"))
}
