package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/state"
)

// Phase of a journal entry.
type Phase string

const (
	// Pending is written, and synced, before the cluster is touched: a crash during
	// the injection leaves an entry that revert --all undoes.
	Pending  Phase = "pending"
	Active   Phase = "active"
	Reverted Phase = "reverted"
)

// Entry is one injection, as the journal keeps it: what it did and what undoes it.
type Entry struct {
	ID      string      `json:"id"`
	Lab     string      `json:"lab"`
	Fault   string      `json:"fault"`
	Summary string      `json:"summary"`
	Params  Params      `json:"params"`
	Seed    *int64      `json:"seed,omitempty"`
	Phase   Phase       `json:"phase"`
	Changes []Change    `json:"changes"`
	Targets []ObjectRef `json:"targets,omitempty"`
	Watch   []ObjectRef `json:"watch,omitempty"`
	// Data is the fault's revert record: original replicas, the saved ConfigMap value,
	// the Deployment's template and revision, a node's cordon state, hog pod names...
	Data json.RawMessage `json:"data"`
	// Source says what started it: "run", or "gameday <file>".
	Source     string        `json:"source"`
	Duration   time.Duration `json:"durationNs"`
	CreatedAt  time.Time     `json:"createdAt"`
	InjectedAt *time.Time    `json:"injectedAt,omitempty"`
	ExpiresAt  *time.Time    `json:"expiresAt,omitempty"`
	RevertedAt *time.Time    `json:"revertedAt,omitempty"`
	// RevertError is the last failed revert attempt's error; the entry stays active.
	RevertError    string  `json:"revertError,omitempty"`
	RevertAttempts int     `json:"revertAttempts,omitempty"`
	Process        Process `json:"process"`
	// GrafanaAnnotation is the id of the start annotation, closed on revert.
	GrafanaAnnotation int64 `json:"grafanaAnnotation,omitempty"`
}

// Journal is a lab's chaos journal: one JSON file per injection in a directory, each
// written atomically and synced (file and directory) before it counts as written.
type Journal struct{ Dir string }

const journalLockWait = 10 * time.Second

func (j Journal) path(id string) string { return filepath.Join(j.Dir, id+".json") }

// Save writes the entry; it is on disk when Save returns.
func (j Journal) Save(e *Entry) error {
	if err := state.WriteJSON(j.path(e.ID), e, 0o600); err != nil {
		return fmt.Errorf("writing chaos journal entry %s: %w", e.ID, err)
	}
	return nil
}

// Load reads one entry; a missing one gives an error matching fs.ErrNotExist.
func (j Journal) Load(id string) (*Entry, error) {
	if strings.ContainsAny(id, `/\`) || id == "" {
		return nil, fmt.Errorf("%q is not a journal entry id: %w", id, fs.ErrNotExist)
	}
	var e Entry
	if err := state.ReadJSON(j.path(id), &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// List returns every entry, oldest first. An unreadable file is an error: an entry
// that cannot be read might be a fault nobody can revert any more.
func (j Journal) List() ([]*Entry, error) {
	files, err := filepath.Glob(filepath.Join(j.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := make([]*Entry, 0, len(files))
	for _, f := range files {
		e, err := j.Load(strings.TrimSuffix(filepath.Base(f), ".json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the glob
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Entry) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Update changes an entry under the journal's lock, so a `lab chaos run` and a
// `lab chaos revert` in another process never lose each other's writes.
// A journal whose directory is gone (`lab down` deleted its lab) is never created
// again: the error matches ErrJournalGone.
func (j Journal) Update(ctx context.Context, id string, change func(*Entry)) (*Entry, error) {
	if !j.Exists() {
		return nil, ErrJournalGone
	}
	lock, err := state.AcquireInExistingDir(ctx, filepath.Join(j.Dir, "journal.lock"), journalLockWait)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrJournalGone
	}
	if err != nil {
		return nil, fmt.Errorf("locking the chaos journal: %w", err)
	}
	defer lock.Release()
	e, err := j.Load(id)
	if err != nil {
		return nil, err
	}
	change(e)
	return e, j.Save(e)
}

// ErrJournalGone is the error of a journal whose lab was deleted.
var ErrJournalGone = errors.New("the lab's chaos journal is gone: the lab was deleted")

// Exists reports whether the journal's directory exists: false once its lab is deleted.
func (j Journal) Exists() bool { return state.Exists(j.Dir) }

// Open reports whether the entry may still be acting on the cluster.
func (e *Entry) Open() bool { return e.Phase != Reverted }
