package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// EntryStatus is one open fault as `lab chaos status` shows it.
type EntryStatus struct {
	*Entry
	Age time.Duration `json:"ageNs"`
	// Remaining is the time left before the fault's own process reverts it; negative
	// when overdue (the process is gone).
	Remaining time.Duration `json:"remainingNs"`
	// Held is true while the lab process that started it still runs and will revert it.
	Held bool `json:"held"`
	// Note says what to do about it.
	Note string `json:"note,omitempty"`
}

// Status lists the lab's open faults, oldest first. It reads the journal only, so it
// works when the cluster does not answer, and after a crash.
func (e *Engine) Status(l *Lab) ([]EntryStatus, error) {
	entries, err := Journal{Dir: l.JournalDir}.List()
	if err != nil {
		return nil, err
	}
	now := e.now()
	out := []EntryStatus{}
	for _, entry := range entries {
		if !entry.Open() {
			continue
		}
		s := EntryStatus{Entry: entry, Age: now.Sub(entry.CreatedAt), Held: entry.Process.Alive()}
		if entry.ExpiresAt != nil {
			s.Remaining = entry.ExpiresAt.Sub(now)
		}
		s.Note = statusNote(s)
		out = append(out, s)
	}
	return out, nil
}

func statusNote(s EntryStatus) string {
	switch {
	case s.RevertError != "":
		return fmt.Sprintf("revert failed %d time(s): %s; run `lab chaos revert %s`", s.RevertAttempts, s.RevertError, s.ID)
	case !s.Held:
		return fmt.Sprintf("the lab process that started it (pid %d) is gone; `lab chaos revert %s` undoes it", s.Process.PID, s.ID)
	case s.Phase == Pending:
		return fmt.Sprintf("being injected by pid %d", s.Process.PID)
	default:
		return fmt.Sprintf("pid %d reverts it when its time is up", s.Process.PID)
	}
}

// RevertOutcome is what `lab chaos revert` did to one entry.
type RevertOutcome struct {
	ID     string `json:"id"`
	Fault  string `json:"fault"`
	Result string `json:"result"` // reverted, already reverted, failed
	Error  string `json:"error,omitempty"`
}

// Revert undoes the entries named by ids, or every open one with all. Reverting an
// entry that is reverted already does nothing. Consent is not checked: undoing is
// always allowed.
func (e *Engine) Revert(ctx context.Context, l *Lab, ids []string, all bool) ([]RevertOutcome, error) {
	entries, err := e.selectEntries(l, ids, all)
	if err != nil {
		return nil, err
	}
	out := []RevertOutcome{}
	var env *Env
	var failed []string
	for _, entry := range entries {
		o := RevertOutcome{ID: entry.ID, Fault: entry.Fault, Result: "already reverted"}
		if entry.Open() {
			if env == nil {
				if env, err = e.env(l); err != nil {
					return nil, err
				}
			}
			o.Result = "reverted"
			if err := e.revertEntry(ctx, env, entry); err != nil {
				o.Result, o.Error = "failed", err.Error()
				failed = append(failed, entry.ID)
			}
		} else {
			e.Events.Skip("Reverting "+entry.ID, "reverted already")
		}
		out = append(out, o)
	}
	if len(failed) > 0 {
		return out, errs.New(errs.Unavailable, fmt.Sprintf("%d fault(s) could not be reverted: %v", len(failed), failed),
			"they stay in `lab chaos status` with their error; fix it and run `lab chaos revert` again")
	}
	return out, nil
}

func (e *Engine) revertEntry(ctx context.Context, env *Env, entry *Entry) error {
	f, err := Lookup(entry.Fault)
	if err != nil {
		return fmt.Errorf("journal entry %s: %w (written by another version of lab?)", entry.ID, err)
	}
	if entry.Process.Alive() && entry.Process.PID != self().PID {
		e.Events.Info(fmt.Sprintf("%s is held by lab process %d, which will find it reverted", entry.ID, entry.Process.PID))
	}
	return e.Stop(ctx, env, f, entry)
}

func (e *Engine) selectEntries(l *Lab, ids []string, all bool) ([]*Entry, error) {
	j := Journal{Dir: l.JournalDir}
	if all {
		entries, err := j.List()
		if err != nil {
			return nil, err
		}
		open := []*Entry{}
		for _, entry := range entries {
			if entry.Open() {
				open = append(open, entry)
			}
		}
		return open, nil
	}
	out := make([]*Entry, 0, len(ids))
	for _, id := range ids {
		entry, err := j.Load(id)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Invalidf("`lab chaos status` lists the open ones", "lab %q has no chaos entry %q", l.Name, id)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, entry)
	}
	return out, nil
}
