package spec

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// MatchExists is the op of a match leaf that only asks for the field to be present.
const MatchExists = "exists"

// Matcher is a leaf of a resource check's match that is not a literal value: a mapping
// whose key is op. {op: exists} passes on a field that is present with any value (null
// included); {op: ">=", value: 2} compares the field as a number (a number, or a string
// holding one, as annotations do), with the ops of a count. It lets a rollout be graded
// without an absolute revision number:
//
//	metadata: {annotations: {deployment.kubernetes.io/revision: {op: ">=", value: 2}}}
//
// Because a mapping with the key op is a matcher, a field literally named op cannot be
// matched by value; match the field beside it, or the object by count.
type Matcher struct {
	Op    string   `json:"op"`
	Value *float64 `json:"value,omitempty"`
}

// String is the matcher as a check's evidence says it: "present", ">= 2".
func (m Matcher) String() string {
	if m.Op == MatchExists {
		return "present (any value)"
	}
	return fmt.Sprintf("%s %g", m.Op, *m.Value)
}

// matcherOps are the ops a matcher takes: exists, then the comparisons.
var matcherOps = append([]string{MatchExists}, comparisonOps...)

// validateMatch walks a partial object, turning each mapping with the key op into a
// Matcher (in place) and reporting, at their lines, matchers that are not well formed.
func validateMatch(src *Source, path string, v any) any {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["op"]; ok {
			return matcher(src, path, t)
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			t[k] = validateMatch(src, joinPath(path, k), t[k])
		}
	case []any:
		for i := range t {
			t[i] = validateMatch(src, indexPath(path, i), t[i])
		}
	}
	return v
}

func matcher(src *Source, path string, m map[string]any) any {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "op" && k != "value" {
			src.Addf(joinPath(path, k), "a matcher has op and value only (a mapping with op is a matcher, not a field to match)")
		}
	}
	op, _ := m["op"].(string)
	if !validateOneOf(src, path+".op", op, matcherOps...) {
		return m
	}
	raw, hasValue := m["value"]
	if op == MatchExists {
		if hasValue {
			src.Addf(path+".value", "is not used by op: exists (any value passes); leave it out")
		}
		return Matcher{Op: op}
	}
	var value float64
	switch n := raw.(type) {
	case int:
		value = float64(n)
	case float64:
		value = n
	default:
		if !hasValue {
			src.Addf(path+".value", "is required with op %s: the number to compare the field with", op)
		} else {
			src.Addf(path+".value", "must be a number for op %s, got %s", op, describePlain(raw))
		}
		return m
	}
	if math.IsNaN(value) {
		src.Addf(path+".value", "must be a number, not NaN")
		return m
	}
	return Matcher{Op: op, Value: &value}
}

// describePlain names a decoded value for a message: its text, or its kind.
func describePlain(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}
