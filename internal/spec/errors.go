package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Pos is a place in a file; lines and columns count from 1, and 0 means unknown.
type Pos struct {
	Line   int
	Column int
}

// FieldError is one problem in a file, placed on the line a user has to edit.
type FieldError struct {
	File    string
	Line    int
	Column  int
	Field   string // a path such as spec.cluster.nodes[1].role; empty for syntax errors
	Message string
}

// Error formats as file:line: field: message, the form editors and terminals link to.
// Parts that are unknown are left out (a Lab built in code has no file or line).
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" || e.Line > 0 {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is every problem found in one file, so a user fixes them in one pass.
type ErrorList []*FieldError

// Error is one problem per line, in file order.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l.sorted() {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted is a copy ordered by file, line, column and field, so output is stable.
func (l ErrorList) sorted() ErrorList {
	s := slices.Clone(l)
	slices.SortStableFunc(s, func(a, b *FieldError) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.Field, b.Field)
	})
	return s
}
