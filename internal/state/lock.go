package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lock is an exclusive advisory lock on a file (flock). The kernel releases it when the
// process dies, so a crashed or killed lab never leaves a lab locked.
type Lock struct {
	f *os.File
}

// ErrLocked is returned when the lock stays taken for the whole wait.
type ErrLocked struct {
	Path   string
	Holder string // pid of the holder as it wrote it, when known
}

func (e *ErrLocked) Error() string {
	if e.Holder != "" {
		return fmt.Sprintf("%s is held by process %s", e.Path, e.Holder)
	}
	return e.Path + " is held by another process"
}

// Acquire takes the lock at path, retrying until wait has passed or ctx ends.
func Acquire(ctx context.Context, path string, wait time.Duration) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return AcquireInExistingDir(ctx, path, wait)
}

// AcquireInExistingDir is Acquire without creating path's directory: when it does not
// exist (its owner was deleted meanwhile), the error matches fs.ErrNotExist.
func AcquireInExistingDir(ctx context.Context, path string, wait time.Duration) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			recordHolder(f)
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if time.Now().After(deadline) {
			holder := readHolder(path)
			f.Close()
			return nil, &ErrLocked{Path: path, Holder: holder}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// recordHolder writes our pid into the lock file so a waiting process can name us.
func recordHolder(f *os.File) {
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
}

func readHolder(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// Release gives the lock up; safe to call twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
	return err
}
