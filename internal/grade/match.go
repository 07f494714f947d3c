package grade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudnativelab/lab/internal/spec"
)

// diffPartial compares an object against the partial object want, the way kuttl and
// chainsaw assert: every field want gives must be in got with the same value; fields
// want leaves out are ignored; a list in want matches when each of its items matches a
// different item of got's list, in any order (a subset, not by position). It returns
// one line per difference, "path: expected X, got Y", sorted; none means a match.
func diffPartial(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		return diffMap(path, w, got)
	case []any:
		return diffList(path, w, got)
	case spec.Matcher:
		return diffMatcher(path, w, got)
	}
	if !scalarEqual(want, got) {
		return []string{fmt.Sprintf("%s: expected %s, got %s", orRoot(path), formatValue(want), formatValue(got))}
	}
	return nil
}

func diffMap(path string, want map[string]any, got any) []string {
	g, ok := got.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: expected a mapping, got %s", orRoot(path), formatValue(got))}
	}
	var diff []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		child := fieldPath(path, k)
		v, present := g[k]
		if !present {
			diff = append(diff, fmt.Sprintf("%s: expected %s, got nothing (the field is not set)", child, formatWant(want[k])))
			continue
		}
		diff = append(diff, diffPartial(child, want[k], v)...)
	}
	return diff
}

// diffList matches want's items to distinct items of got (a bipartite matching, so an
// item of got used by one wanted item is not reused by another) and reports each wanted
// item left without a partner, with the closest item of got and how it differs.
func diffList(path string, want []any, got any) []string {
	g, ok := got.([]any)
	if !ok {
		return []string{fmt.Sprintf("%s: expected a list, got %s", orRoot(path), formatValue(got))}
	}
	fits := make([][]bool, len(want))
	for i, w := range want {
		fits[i] = make([]bool, len(g))
		for j, item := range g {
			fits[i][j] = len(diffPartial("", w, item)) == 0
		}
	}
	var diff []string
	for _, i := range unmatched(fits, len(g)) {
		diff = append(diff, describeMissingItem(path, want[i], g))
	}
	return diff
}

// unmatched is the wanted items (rows of fits) left out of a maximum matching, found with
// augmenting paths (Kuhn's algorithm): lists in objects are short.
func unmatched(fits [][]bool, items int) []int {
	owner := make([]int, items) // item -> wanted index + 1; 0 means free
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range items {
			if !fits[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if owner[j] == 0 || try(owner[j]-1, seen) {
				owner[j] = i + 1
				return true
			}
		}
		return false
	}
	var left []int
	for i := range fits {
		if !try(i, make([]bool, items)) {
			left = append(left, i)
		}
	}
	return left
}

func describeMissingItem(path string, want any, got []any) string {
	msg := fmt.Sprintf("%s: no item matches %s", orRoot(path), formatWant(want))
	switch want.(type) {
	case map[string]any, []any:
	default:
		return msg + "; the list is " + formatValue(got)
	}
	if len(got) == 0 {
		return msg + " (the list is empty)"
	}
	best, bestDiff := -1, []string(nil)
	for j, item := range got {
		d := diffPartial("", want, item)
		if best < 0 || len(d) < len(bestDiff) {
			best, bestDiff = j, d
		}
	}
	return fmt.Sprintf("%s; closest is item %d: %s", msg, best, strings.Join(bestDiff, "; "))
}

// diffMatcher compares a field with a matcher of the check: present, or a number
// (or a string holding one, as annotations hold revisions) that compares as asked.
func diffMatcher(path string, m spec.Matcher, got any) []string {
	if m.Op == spec.MatchExists {
		return nil // diffMap reports a field that is not there
	}
	v, ok := number(got)
	if s, isString := got.(string); isString {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		v, ok = f, err == nil
	}
	switch {
	case !ok:
		return []string{fmt.Sprintf("%s: expected a number %s, got %s", orRoot(path), m, formatValue(got))}
	case !compare(v, m.Op, *m.Value):
		return []string{fmt.Sprintf("%s: expected %s, got %s", orRoot(path), m, formatValue(got))}
	}
	return nil
}

// formatWant writes a wanted value: a matcher as its condition, anything else as JSON.
func formatWant(v any) string {
	if m, ok := v.(spec.Matcher); ok {
		return m.String()
	}
	return formatValue(v)
}

// scalarEqual compares leaf values: numbers by value whatever their Go type (YAML gives
// int, JSON int64 or float64), other values of different types by their text, so "3"
// in a check matches 3 in the object.
func scalarEqual(want, got any) bool {
	if wf, ok := number(want); ok {
		if gf, ok := number(got); ok {
			return wf == gf
		}
	}
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	return fmt.Sprint(want) == fmt.Sprint(got)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// formatValue writes a value compactly as JSON: "nginx", 3, {"name":"app"}.
func formatValue(v any) string {
	if v == nil {
		return "null"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // a matcher's op is < or >, not \u003c
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	const limit = 120
	if len(data) > limit {
		return string(data[:limit-3]) + "..."
	}
	return string(data)
}

func fieldPath(path, key string) string {
	if strings.ContainsAny(key, ".[]/ ") {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(object)"
	}
	return path
}
