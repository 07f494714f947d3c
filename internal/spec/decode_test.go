package spec

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
)

// sample exercises every kind of field Decode supports.
type sample struct {
	Name    string            `json:"name"`
	Count   int               `json:"count,omitempty"`
	Small   int8              `json:"small"`
	Size    uint16            `json:"size"`
	Ratio   float64           `json:"ratio"`
	Enabled bool              `json:"enabled"`
	Timeout time.Duration     `json:"timeout"`
	Labels  map[string]string `json:"labels"`
	Items   []item            `json:"items"`
	Ptr     *item             `json:"ptr"`
	Values  any               `json:"values"`
	Level   level             `json:"level"`
	Ignored string            `json:"-"`
	Embedded
	NoTag string
}

// Embedded's Name loses to sample.Name, as in encoding/json.
type Embedded struct {
	Extra string `json:"extra"`
	Name  string `json:"name"`
}

type item struct {
	ID   int      `json:"id"`
	Tags []string `json:"tags,omitempty"`
}

// level decodes itself from text, like types implementing encoding.TextUnmarshaler.
type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("must be low or high, got %q", b)
	}
	return nil
}

func TestDecodeEveryType(t *testing.T) {
	t.Parallel()
	const doc = `
name: demo
count: 0x10
small: -12
size: 65_535
ratio: .5
enabled: true
timeout: 1m30s
labels:
  app.kubernetes.io/name: shop
  tier: "3"
items:
  - &first {id: 1, tags: [a, b]}
  - *first
  - id: 3
ptr: {id: 4}
values: {list: [1, 2.5, "x", true, null], nested: {k: v}}
level: high
extra: promoted
NoTag: by Go name
`
	var got sample
	if _, err := Decode("t.yaml", []byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	want := sample{
		Name: "demo", Count: 16, Small: -12, Size: 65535, Ratio: 0.5, Enabled: true,
		Timeout: 90 * time.Second,
		Labels:  map[string]string{"app.kubernetes.io/name": "shop", "tier": "3"},
		Items:   []item{{ID: 1, Tags: []string{"a", "b"}}, {ID: 1, Tags: []string{"a", "b"}}, {ID: 3}},
		Ptr:     &item{ID: 4},
		Values: map[string]any{
			"list":   []any{1, 2.5, "x", true, nil},
			"nested": map[string]any{"k": "v"},
		},
		Level:    2,
		Embedded: Embedded{Extra: "promoted"},
		NoTag:    "by Go name",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode:\n got %#v\nwant %#v", got, want)
	}
}

func TestDecodeNullAndEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc       string
		wantItems []item
		wantPtr   *item
	}{
		{"items:\nptr: ~", nil, nil},
		{"name: a", nil, nil},
		{"items: []\nptr: {}", []item{}, &item{}},
		{"items: [~]", []item{{}}, nil},
	}
	for _, tt := range tests {
		var got sample
		if _, err := Decode("t.yaml", []byte(tt.doc), &got); err != nil {
			t.Fatalf("%q: %v", tt.doc, err)
		}
		if !reflect.DeepEqual(got.Items, tt.wantItems) || !reflect.DeepEqual(got.Ptr, tt.wantPtr) {
			t.Errorf("%q: items %#v, ptr %#v", tt.doc, got.Items, got.Ptr)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want string // all the error lines
	}{
		{"string for int", "count: two", `t.yaml:1: count: expected an integer, got string "two"`},
		{"float for int", "count: 1.5", `t.yaml:1: count: expected an integer, got number 1.5`},
		{"int out of range", "small: 300", `t.yaml:1: small: integer 300 is out of range`},
		{"negative uint", "size: -1", `t.yaml:1: size: expected a non-negative integer, got integer -1`},
		{"yes is not a bool", "enabled: yes", `t.yaml:1: enabled: expected a boolean (true or false), got string "yes"`},
		{"duration without unit", "timeout: 30", `t.yaml:1: timeout: expected a duration such as "30s" or "3m", got integer 30`},
		{"list for string", "name: [a]", `t.yaml:1: name: expected a string, got a list`},
		{"mapping for list", "items: {a: 1}", `t.yaml:1: items: expected a list, got a mapping`},
		{"string for struct", "ptr: x", `t.yaml:1: ptr: expected a mapping, got string "x"`},
		{"nested path", "items:\n  - id: 1\n  - id: x", `t.yaml:3: items[1].id: expected an integer, got string "x"`},
		{"quoted map key in path", "labels:\n  app.kubernetes.io/name: [x]", `t.yaml:2: labels["app.kubernetes.io/name"]: expected a string, got a list`},
		{"text unmarshaler", "level: medium", `t.yaml:1: level: must be low or high, got "medium"`},
		{"typo", "ptr: {idd: 1}", `t.yaml:1: ptr.idd: unknown field "idd" (did you mean "id"?)`},
		{"case typo", "Name: x", `t.yaml:1: Name: unknown field "Name" (did you mean "name"?)`},
		{"unknown lists allowed", "ptr:\n  colour: 1", `t.yaml:2: ptr.colour: unknown field "colour" (allowed: id, tags)`},
		{"json dash is not decoded", "ptr: {}\nIgnored: x", `t.yaml:2: Ignored: unknown field "Ignored" (allowed: name, count, small, size, ratio, enabled, timeout, labels, items, ptr, values, level, NoTag, extra)`},
		{"duplicate key", "name: a\ncount: 1\nname: b", `t.yaml:3: name: duplicate key "name" (first set at line 1)`},
		{"duplicate key in any", "values:\n  a: 1\n  a: 2", `t.yaml:3: values.a: duplicate key "a" (first set at line 2)`},
		{"merge key", "ptr:\n  <<: {id: 1}", `t.yaml:2: ptr: merge keys (<<) are not supported; write the fields out`},
		{"complex key", "? [a]\n: 1", `t.yaml:1: keys must be plain strings, got a list`},
		{"alias cycle", "values: &a [*a]", `t.yaml:1: values[0]: alias *a refers to a value that contains it`},
		{"syntax error", "name: a\n  count: 1", `t.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		{"second document", "name: a\n---\nname: b", `t.yaml:2: a second YAML document starts here; a file holds exactly one (remove the extra ---)`},
		{"not UTF-8", "name: a\nlabels: {a: \"\xff\"}", `t.yaml:2: the file is not valid UTF-8 text`},
		{"every problem at once", "count: x\nname: [a]\nbogus: 1\nitems: [{id: y}]",
			"t.yaml:1: count: expected an integer, got string \"x\"\n" +
				"t.yaml:2: name: expected a string, got a list\n" +
				"t.yaml:3: bogus: unknown field \"bogus\" (allowed: name, count, small, size, ratio, enabled, timeout, labels, items, ptr, values, level, NoTag, extra)\n" +
				"t.yaml:4: items[0].id: expected an integer, got string \"y\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s sample
			_, err := Decode("t.yaml", []byte(tt.doc), &s)
			if err == nil {
				t.Fatalf("no error, decoded %+v", s)
			}
			requireFieldErrors(t, err)
			if err.Error() != tt.want {
				t.Errorf("Decode(%q) errors:\n%v\nwant:\n%s", tt.doc, err, tt.want)
			}
		})
	}
}

// TestDecodeAliasBomb checks that a few lines of aliases cannot make Decode do
// exponential work.
func TestDecodeAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("values:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	var s sample
	_, err := Decode("bomb.yaml", []byte(b.String()), &s)
	if err == nil || !strings.Contains(err.Error(), "the document expands to more than 100000 values") {
		t.Fatalf("Decode of an alias bomb: %v", err)
	}
}

func TestDecodeEmptyFile(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "\n# only a comment\n", "---\n", "name: a\n---\n"} {
		var s sample
		src, err := Decode("t.yaml", []byte(doc), &s)
		if err != nil || src == nil {
			t.Errorf("Decode(%q) = %v, %v", doc, src, err)
		}
	}
}

func TestDecodeNeedsPointer(t *testing.T) {
	t.Parallel()
	_, err := Decode("t.yaml", []byte("name: a"), sample{})
	if errs.KindOf(err) != errs.Internal {
		t.Errorf("Decode into a non-pointer: %v (kind %v), want Internal", err, errs.KindOf(err))
	}
}

func TestSourcePositions(t *testing.T) {
	t.Parallel()
	const doc = "name: a\nitems:\n  - id: 1\n  - tags:\n      - x\nlabels:\n  a.b: c\n"
	var s sample
	src, err := Decode("t.yaml", []byte(doc), &s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want Pos
		has  bool
	}{
		{"", Pos{1, 1}, true},
		{"name", Pos{1, 1}, true},
		{"items", Pos{2, 1}, true},
		{"items[0]", Pos{3, 5}, true},
		{"items[0].id", Pos{3, 5}, true},
		{"items[1].id", Pos{4, 5}, false}, // not written: the list item's position
		{"items[1].tags[0]", Pos{5, 9}, true},
		{`labels["a.b"]`, Pos{7, 3}, true},
		{`labels["x[0].y"].z`, Pos{6, 1}, false},
		{"ptr.id", Pos{1, 1}, false}, // nothing of ptr written: the document's start
	}
	for _, tt := range tests {
		if got := src.At(tt.path); got != tt.want {
			t.Errorf("At(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
		if got := src.Has(tt.path); got != tt.has {
			t.Errorf("Has(%q) = %v, want %v", tt.path, got, tt.has)
		}
	}
}

func TestParentPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                           "",
		"a":                          "",
		"a.b":                        "a",
		"a.b[3]":                     "a.b",
		"a[3].b":                     "a[3]",
		`a["x.y"]`:                   "a",
		`a["x[1]"]`:                  "a",
		`a["x\"]"]`:                  "a",
		`spec.cluster.nodes[1].role`: "spec.cluster.nodes[1]",
	}
	for path, want := range tests {
		if got := parentPath(path); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	fields := []string{"provider", "kubernetesVersion", "nodes", "ports", "context", "allowChaos"}
	tests := map[string]string{
		"nodse":              "nodes",
		"node":               "nodes",
		"Ports":              "ports",
		"kuberntesVersion":   "kubernetesVersion",
		"kubernetes-version": "kubernetesVersion",
		"provder":            "provider",
		"allow_chaos":        "allowChaos",
		"colour":             "",
		"x":                  "",
		"version":            "",
	}
	for name, want := range tests {
		if got := closest(name, fields); got != want {
			t.Errorf("closest(%q) = %q, want %q", name, got, want)
		}
	}
}
