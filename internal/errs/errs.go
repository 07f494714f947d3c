// Package errs defines the typed errors that engines return and that internal/app maps,
// in exactly one place, to a message, a hint and an exit code.
//
// Engines never print and never choose exit codes: they return an *Error whose Kind says
// what went wrong in terms a user can act on.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the user should do about it.
type Kind int

const (
	// Internal is a failure the user can only report or retry (exit 1).
	Internal Kind = iota
	// Invalid is bad input: a malformed file, a bad flag value, a spec that conflicts with
	// what exists (exit 2).
	Invalid
	// Unavailable is a dependency that is not there: Docker not running, a binary missing,
	// an API server that does not answer (exit 1).
	Unavailable
	// Busy is another lab process holding the lock on the same lab (exit 1).
	Busy
	// ChecksFailed is at least one grading check that failed (exit 3).
	ChecksFailed
	// ChecksErrored is at least one check that could not be evaluated (exit 4).
	ChecksErrored
	// Interrupted is a user's Ctrl-C (exit 130).
	Interrupted
)

// Exit codes documented in the README.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitInvalid       = 2
	ExitChecksFailed  = 3
	ExitChecksErrored = 4
	ExitInterrupted   = 130
)

// ExitCode is the process exit code for a kind of error.
func (k Kind) ExitCode() int {
	switch k {
	case Invalid:
		return ExitInvalid
	case ChecksFailed:
		return ExitChecksFailed
	case ChecksErrored:
		return ExitChecksErrored
	case Interrupted:
		return ExitInterrupted
	default:
		return ExitError
	}
}

// Error is an error with a kind, a message for the user and an optional hint saying what
// to do next.
type Error struct {
	Kind Kind
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string {
	switch {
	case e.Msg == "" && e.Err != nil:
		return e.Err.Error()
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Msg, e.Err)
	default:
		return e.Msg
	}
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind.
func New(kind Kind, msg, hint string) *Error {
	return &Error{Kind: kind, Msg: msg, Hint: hint}
}

// Wrap returns an error of the given kind around err; a nil err gives nil.
func Wrap(kind Kind, err error, msg, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Msg: msg, Hint: hint, Err: err}
}

// Invalidf is a shortcut for bad input.
func Invalidf(hint, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// KindOf is the kind of the outermost *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// HintOf is the first non-empty hint in err's chain.
func HintOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Hint != "" {
			return e.Hint
		}
		err = e.Err
	}
	return ""
}
