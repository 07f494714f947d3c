package spec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// promQL parses with the options of a stock Prometheus: no experimental syntax, which
// the lab's Prometheus would reject at query time.
var promQL = parser.NewParser(parser.Options{})

// validatePromQL parses expr when the file is loaded, so a typo is reported with the
// file's line and the column in the expression rather than when grading.
func validatePromQL(src *Source, path, expr string) {
	parsed, err := promQL.ParseExpr(expr)
	if err != nil {
		src.Addf(path, "%s", describePromQLError(expr, err))
		return
	}
	switch t := parsed.Type(); t {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
	case parser.ValueTypeMatrix:
		src.Addf(path, "returns a range vector; a check compares instant values: wrap it in a function such as rate() or max_over_time(), or use for: to make a condition hold over a window")
	default:
		src.Addf(path, "returns a %s; a check needs an instant vector or a scalar", t)
	}
}

// describePromQLError is the parser's first error with its place in the expression:
// "column 12" on one line, "line 2, column 5 of the expression" in a block scalar.
func describePromQLError(expr string, err error) string {
	var list parser.ParseErrors
	if !errors.As(err, &list) || len(list) == 0 {
		return fmt.Sprintf("is not valid PromQL: %v", err)
	}
	first := list[0]
	// An unclosed bracket is found at the end of the input, which in a block scalar is
	// after its last newline: a line past the query. The place to fix it is the end of
	// the query's text.
	end := len(strings.TrimRight(expr, " \t\r\n"))
	offset := int(first.PositionRange.Start)
	line, column := positionIn(expr, min(offset, end))
	where := fmt.Sprintf("column %d", column)
	if line > 1 {
		where = fmt.Sprintf("line %d, column %d", line, column)
	}
	if offset >= end {
		return fmt.Sprintf("PromQL parse error at the end of the expression (%s): %v", where, first.Err)
	}
	return fmt.Sprintf("PromQL parse error at %s of the expression: %v", where, first.Err)
}

// positionIn turns a byte offset into expr into a line and column, both from 1; the
// column counts runes so it matches what an editor shows.
func positionIn(expr string, offset int) (line, column int) {
	offset = max(0, min(offset, len(expr)))
	line, column = 1, 1
	for _, r := range expr[:offset] {
		if r == '\n' {
			line, column = line+1, 1
			continue
		}
		column++
	}
	return line, column
}
