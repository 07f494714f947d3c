package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestWriteFileAtomicReplacesAndKeepsMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "kubeconfig")
	if err := WriteFileAtomic(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "two" {
		t.Fatalf("content = %q, %v; want two", data, err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestReadJSONReportsMissingAndCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var v map[string]int
	if err := ReadJSON(filepath.Join(dir, "none.json"), &v); !errors.Is(err, ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	if err := ReadJSON(bad, &v); err == nil || errors.Is(err, ErrNotExist) {
		t.Fatalf("corrupt file: err = %v, want a corruption error", err)
	}
	good := filepath.Join(dir, "good.json")
	if err := WriteJSON(good, map[string]int{"a": 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ReadJSON(good, &v); err != nil || v["a"] != 1 {
		t.Fatalf("round trip = %v, %v", v, err)
	}
}

func TestLockExcludesAndNamesHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lab.lock")
	ctx := context.Background()
	first, err := Acquire(ctx, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open file descriptions, so a second Acquire in the same
	// process conflicts exactly as a second process would.
	_, err = Acquire(ctx, path, 200*time.Millisecond)
	var locked *ErrLocked
	if !errors.As(err, &locked) {
		t.Fatalf("second acquire: err = %v, want ErrLocked", err)
	}
	if locked.Holder != strconv.Itoa(os.Getpid()) {
		t.Fatalf("holder = %q, want our pid", locked.Holder)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	second, err := Acquire(ctx, path, time.Second)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	second.Release()
	second.Release() // idempotent
}

func TestLockWaitsForRelease(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lab.lock")
	first, err := Acquire(context.Background(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(150 * time.Millisecond)
		first.Release()
	}()
	second, err := Acquire(context.Background(), path, 5*time.Second)
	if err != nil {
		t.Fatalf("waiting acquire: %v", err)
	}
	second.Release()
}
