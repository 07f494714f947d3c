// Package state keeps lab's files on disk: where they live (XDG directories), how they are
// written (atomically, so a crash never leaves half a file) and who may change them (a lock
// per lab, so two lab processes never change the same lab at once).
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StateHome is lab's state directory: $LAB_STATE_DIR, else $XDG_STATE_HOME/lab, else
// ~/.local/state/lab.
func StateHome() string {
	if d := os.Getenv("LAB_STATE_DIR"); d != "" {
		return d
	}
	return filepath.Join(xdg("XDG_STATE_HOME", ".local/state"), "lab")
}

// CacheHome is lab's cache directory: $XDG_CACHE_HOME/lab, else ~/.cache/lab.
func CacheHome() string {
	return filepath.Join(xdg("XDG_CACHE_HOME", ".cache"), "lab")
}

func xdg(env, fallback string) string {
	if d := os.Getenv(env); d != "" && filepath.IsAbs(d) {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, fallback)
}

// WriteFileAtomic writes data to path through a temporary file in the same directory,
// synced and renamed over the target, so readers see the old or the new file, never a mix.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	cleanup := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return cleanup(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(dir)
}

// syncDir makes the rename itself durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any, perm fs.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'), perm)
}

// ErrNotExist is returned by ReadJSON for a missing file.
var ErrNotExist = fs.ErrNotExist

// ReadJSON reads path into v. A missing file gives an error matching ErrNotExist.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is corrupt: %w", path, err)
	}
	return nil
}

// Exists reports whether path exists.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
