package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Source is what Decode learned about a file: where each field path was written and the
// problems found so far. Validation adds its own problems with Addf, placed on the line
// of the offending field, and Err returns them all at once.
type Source struct {
	File string
	// Hint is attached to the error Err returns, for the user to read after the list.
	Hint string

	pos    map[string]Pos
	errors ErrorList
	// failed are the paths whose value could not be decoded. Their Go value is left
	// zero, so validating it again would only add noise ("name is required").
	failed []string
}

// NewSource starts an empty Source, for validating values that were not read from a file
// (errors then carry no line) or for tests.
func NewSource(file string) *Source {
	return &Source{File: file, pos: map[string]Pos{}}
}

// At is where path was written. A path that is not in the file, typically a field left
// to its default, takes the position of its nearest parent that is, so an error about a
// missing field points at the block that should hold it.
func (s *Source) At(path string) Pos {
	for {
		if p, ok := s.pos[path]; ok {
			return p
		}
		if path == "" {
			return Pos{}
		}
		path = parentPath(path)
	}
}

// Has reports whether path was written in the file, which tells an explicit zero
// ("count: 0") from an omitted field.
func (s *Source) Has(path string) bool {
	_, ok := s.pos[path]
	return ok
}

// Addf records a validation problem at path. A problem about a value that failed to decode,
// or about its parent or children, is dropped: the decode error already explains it.
func (s *Source) Addf(path, format string, args ...any) {
	if s.relatesToFailure(path) {
		return
	}
	s.add(s.At(path), path, fmt.Sprintf(format, args...))
}

// Errors is a sorted copy of the problems recorded so far.
func (s *Source) Errors() ErrorList {
	return s.errors.sorted()
}

// Err is nil when no problem was recorded; otherwise an errs.Invalid error wrapping the
// sorted ErrorList (reachable with errors.As).
func (s *Source) Err() error {
	if len(s.errors) == 0 {
		return nil
	}
	return errs.Wrap(errs.Invalid, s.Errors(), "", s.Hint)
}

func (s *Source) add(p Pos, path, msg string) {
	s.errors = append(s.errors, &FieldError{File: s.File, Line: p.Line, Column: p.Column, Field: path, Message: msg})
}

// decodeFailed records a decode error; see failed.
func (s *Source) decodeFailed(p Pos, path, msg string) {
	s.add(p, path, msg)
	s.failed = append(s.failed, path)
}

func (s *Source) record(path string, p Pos) {
	if _, ok := s.pos[path]; !ok {
		s.pos[path] = p
	}
}

func (s *Source) relatesToFailure(path string) bool {
	for _, f := range s.failed {
		if isWithin(path, f) || isWithin(f, path) {
			return true
		}
	}
	return false
}

// isWithin reports whether path is ancestor itself or one of its descendants.
func isWithin(path, ancestor string) bool {
	if ancestor == "" || path == ancestor {
		return true
	}
	rest, ok := strings.CutPrefix(path, ancestor)
	return ok && (rest[0] == '.' || rest[0] == '[')
}

// simpleKey matches map keys that can be written after a dot in a path; others are
// written quoted in brackets: labels["app.kubernetes.io/name"].
var simpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinPath appends a field or map key to a path.
func joinPath(path, key string) string {
	switch {
	case !simpleKey.MatchString(key):
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	default:
		return path + "." + key
	}
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// parentPath removes the last segment of a path: a[1] -> a, a.b -> a, a -> "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := lastBracket(path); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// lastBracket finds the '[' opening the last segment, skipping brackets and dots inside a
// quoted key.
func lastBracket(path string) int {
	for i := strings.LastIndexByte(path, '['); i >= 0; i = strings.LastIndexByte(path[:i], '[') {
		inner := path[i+1 : len(path)-1]
		if _, err := strconv.Atoi(inner); err == nil {
			return i
		}
		if _, err := strconv.Unquote(inner); err == nil {
			return i
		}
	}
	return -1
}
