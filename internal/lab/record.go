// Package lab is the engine behind `lab up`, `lab down`, `lab status` and `lab list`:
// it reconciles a lab definition with a cluster provider, keeps the lab's record in the
// state dir, and merges the lab's kubeconfig context. It never prints: progress goes to
// an event.Emitter, failures are *errs.Error.
package lab

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/state"
)

// Phase of a lab's life.
type Phase string

const (
	// Creating is written before anything changes, so an interrupted `lab up` leaves a
	// record that the next `lab up` completes and `lab down` cleans up.
	Creating Phase = "Creating"
	Ready    Phase = "Ready"
	Deleting Phase = "Deleting"
)

// Record is what lab remembers of a lab, in <state>/labs/<name>/state.json.
type Record struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Phase    Phase  `json:"phase"`
	// Source is where the definition came from: a file path or "embedded:<name>".
	Source string   `json:"source"`
	Spec   spec.Lab `json:"spec"`
	// Context is the kubeconfig context of the lab (lab-<name>, or the adopted one).
	Context string `json:"context"`
	// Kubeconfig is lab's own copy of the admin kubeconfig (0600).
	Kubeconfig string `json:"kubeconfig"`
	// UserKubeconfig is the file the context was merged into, to remove it from there.
	UserKubeconfig string `json:"userKubeconfig,omitempty"`
	// Stacks are the Helm releases lab installed, with chart versions and digests.
	Stacks []stack.Release `json:"stacks,omitempty"`
	// Bundle is the offline bundle directory the lab was brought up from (`lab up
	// --bundle`); a later `lab up` keeps loading images and charts from it.
	Bundle string `json:"bundle,omitempty"`
	// NoCluster is true when lab knows the provider holds nothing of the lab's cluster:
	// its creation failed and the provider then reported it missing. `lab down` forgets
	// such a lab even when the provider does not answer any more (Docker stopped).
	NoCluster bool      `json:"noCluster,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// store reads and writes records under a state dir.
type store struct{ root string }

func (s store) dir(name string) string        { return filepath.Join(s.root, "labs", name) }
func (s store) recordPath(name string) string { return filepath.Join(s.dir(name), "state.json") }
func (s store) lockPath(name string) string   { return filepath.Join(s.root, "locks", name+".lock") }
func (s store) workDir(name string) string    { return filepath.Join(s.dir(name), "work") }

// keptDir is where a forgotten lab's provider keeps what tracks its cluster (a
// Terraform state); lab never removes it.
func (s store) keptDir(name string, at time.Time) string {
	return filepath.Join(s.root, "kept", name+"-"+at.UTC().Format("20060102T150405Z"))
}

func (s store) kubeconfigPath(name string) string {
	return filepath.Join(s.dir(name), "kubeconfig")
}

// load returns the lab's record, or nil when there is none.
func (s store) load(name string) (*Record, error) {
	var r Record
	err := state.ReadJSON(s.recordPath(name), &r)
	if errors.Is(err, state.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (s store) save(r *Record) error {
	r.UpdatedAt = time.Now().UTC()
	return state.WriteJSON(s.recordPath(r.Name), r, 0o600)
}

// remove deletes everything lab kept for the lab. The lock file stays: it lives
// outside the lab's dir so a waiting process never locks a deleted file.
func (s store) remove(name string) error { return os.RemoveAll(s.dir(name)) }

// names lists labs with a record, sorted.
func (s store) names() ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(s.root, "labs", "*", "state.json"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	return names, nil
}
