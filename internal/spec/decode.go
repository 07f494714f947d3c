package spec

import (
	"encoding"
	"fmt"
	"reflect"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	yaml "go.yaml.in/yaml/v3"
)

// Decode reads the single YAML document in data into out, a non-nil pointer to a struct,
// strictly: field names come from json tags, unknown fields, wrong types and duplicate keys
// are errors, and every problem is reported, each at its file:line.
//
// Supported Go types: structs (json tags, "-", embedded structs), pointers, slices, maps
// with string keys, string, bool, all integer kinds, floats, time.Duration (written "30s"),
// any (decoded as map[string]any, []any and scalars) and encoding.TextUnmarshaler.
// A YAML null leaves the zero value, so "ports:" gives a nil slice and "ports: []" an
// empty one.
//
// The Source is nil only when the file cannot be parsed at all. Otherwise it records where
// every path was written, so callers validate the typed value and report with Source.Addf;
// the error then lists the decode problems (Source.Err lists them with later ones).
func Decode(file string, data []byte, out any) (*Source, error) {
	return decode(file, data, out, nil)
}

// decode is Decode with an optional check of the parsed root, run before the strict walk;
// when the check records problems, they alone are returned, with a nil Source.
func decode(file string, data []byte, out any, check func(*Source, *yaml.Node)) (*Source, error) {
	target := reflect.ValueOf(out)
	if target.Kind() != reflect.Pointer || target.IsNil() {
		return nil, errs.New(errs.Internal, fmt.Sprintf("spec.Decode needs a non-nil pointer, got %T", out), "")
	}
	root, fatal := parseOneDocument(data)
	if fatal != nil {
		fatal.File = file
		return nil, errs.Wrap(errs.Invalid, ErrorList{fatal}, "", "")
	}
	src := NewSource(file)
	src.record("", rootPos(root))
	if check != nil {
		check(src, root)
		if len(src.errors) > 0 {
			return nil, src.Err()
		}
	}
	if root != nil {
		d := &decoder{src: src, budget: maxDecodedNodes, open: map[*yaml.Node]bool{}}
		d.decode(root, "", target.Elem())
	}
	return src, src.Err()
}

// maxDecodedNodes bounds the work for one file: a few aliases can make a tiny file expand
// to billions of values.
const maxDecodedNodes = 100_000

// decoder walks a node tree against a Go value.
type decoder struct {
	src    *Source
	budget int // nodes still allowed, see maxDecodedNodes
	// open holds the anchored nodes being decoded, to catch an alias inside one that
	// refers back to it.
	open map[*yaml.Node]bool
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.src.decodeFailed(nodePos(n), path, fmt.Sprintf(format, args...))
}

func (d *decoder) wrongType(n *yaml.Node, path, want string) {
	d.fail(n, path, "expected %s, got %s", want, describe(n))
}

// spend takes one node from the budget and reports, once, when it runs out.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	d.budget--
	if d.budget == -1 {
		d.fail(n, path, "the document expands to more than %d values; simplify its aliases", maxDecodedNodes)
	}
	return d.budget >= 0
}

// follow decodes the anchored node an alias refers to.
func (d *decoder) follow(n *yaml.Node, path string, decode func(*yaml.Node)) {
	switch {
	case n.Alias == nil:
		d.fail(n, path, "alias *%s refers to no anchor", n.Value)
	case d.open[n.Alias]:
		d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
	default:
		decode(n.Alias)
	}
}

// enter marks an anchored node as open until the returned func runs; see decoder.open.
func (d *decoder) enter(n *yaml.Node) (leave func()) {
	if n.Anchor == "" {
		return func() {}
	}
	d.open[n] = true
	return func() { delete(d.open, n) }
}

// decode sets out from n; path names out in error messages.
func (d *decoder) decode(n *yaml.Node, path string, out reflect.Value) {
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		d.follow(n, path, func(target *yaml.Node) { d.decode(target, path, out) })
		return
	}
	defer d.enter(n)()
	if isNull(n) {
		out.SetZero()
		return
	}
	out = allocatePointers(out)
	if out.CanAddr() && reflect.PointerTo(out.Type()).Implements(textUnmarshalerType) {
		d.decodeText(n, path, out)
		return
	}
	if out.Type() == durationType {
		d.decodeDuration(n, path, out)
		return
	}
	d.decodeKind(n, path, out)
}

// allocatePointers follows v through pointers, allocating nil ones, to the value to set.
func allocatePointers(v reflect.Value) reflect.Value {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	return v
}

func (d *decoder) decodeKind(n *yaml.Node, path string, out reflect.Value) {
	switch out.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, path, out)
	case reflect.Slice:
		d.decodeSlice(n, path, out)
	case reflect.Map:
		d.decodeMap(n, path, out)
	case reflect.Interface:
		d.decodeInterface(n, path, out)
	case reflect.String:
		d.decodeString(n, path, out)
	case reflect.Bool:
		d.decodeBool(n, path, out)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.decodeInt(n, path, out)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		d.decodeUint(n, path, out)
	case reflect.Float32, reflect.Float64:
		d.decodeFloat(n, path, out)
	default:
		d.fail(n, path, "internal error: cannot decode into Go type %s", out.Type())
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// eachEntry calls fn for each key of a mapping, after rejecting keys that are not plain
// strings and keys written twice.
func (d *decoder) eachEntry(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	firstLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be plain strings, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(k, path, "merge keys (<<) are not supported; write the fields out")
			continue
		}
		if line, dup := firstLine[k.Value]; dup {
			d.fail(k, joinPath(path, k.Value), "duplicate key %q (first set at line %d)", k.Value, line)
			continue
		}
		firstLine[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, path string, out reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	fields := fieldsOf(out.Type())
	d.eachEntry(n, path, func(key string, k, v *yaml.Node) {
		fieldPath := joinPath(path, key)
		f, ok := fields.byName[key]
		if !ok {
			d.fail(k, fieldPath, "%s", fields.unknown(key))
			return
		}
		d.src.record(fieldPath, nodePos(k))
		if target, ok := fieldByIndex(out, f.index); ok {
			d.decode(v, fieldPath, target)
		}
	})
}

func (d *decoder) decodeMap(n *yaml.Node, path string, out reflect.Value) {
	if out.Type().Key().Kind() != reflect.String {
		d.fail(n, path, "internal error: cannot decode into Go type %s (keys must be strings)", out.Type())
		return
	}
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	if out.IsNil() {
		out.Set(reflect.MakeMap(out.Type()))
	}
	d.eachEntry(n, path, func(key string, k, v *yaml.Node) {
		keyPath := joinPath(path, key)
		d.src.record(keyPath, nodePos(k))
		elem := reflect.New(out.Type().Elem()).Elem()
		d.decode(v, keyPath, elem)
		out.SetMapIndex(reflect.ValueOf(key).Convert(out.Type().Key()), elem)
	})
}

func (d *decoder) decodeSlice(n *yaml.Node, path string, out reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.wrongType(n, path, "a list")
		return
	}
	list := reflect.MakeSlice(out.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		itemPath := indexPath(path, i)
		d.src.record(itemPath, nodePos(item))
		d.decode(item, itemPath, list.Index(i))
	}
	out.Set(list)
}

// decodeInterface fills an any with plain Go values; other interfaces cannot be decoded
// because the concrete type is unknown.
func (d *decoder) decodeInterface(n *yaml.Node, path string, out reflect.Value) {
	if out.NumMethod() != 0 {
		d.fail(n, path, "internal error: cannot decode into Go type %s", out.Type())
		return
	}
	var v any
	d.fillPlain(n, path, &v)
	if v == nil {
		out.SetZero()
		return
	}
	out.Set(reflect.ValueOf(v))
}

// plainValue is n as map[string]any, []any, string, bool, int, float64 or nil.
func (d *decoder) plainValue(n *yaml.Node, path string) any {
	if !d.spend(n, path) {
		return nil
	}
	defer d.enter(n)()
	var v any
	d.fillPlain(n, path, &v)
	return v
}

// fillPlain sets *v to n as a plain value; the caller has spent n from the budget.
func (d *decoder) fillPlain(n *yaml.Node, path string, v *any) {
	switch n.Kind {
	case yaml.AliasNode:
		d.follow(n, path, func(target *yaml.Node) { *v = d.plainValue(target, path) })
	case yaml.MappingNode:
		m := map[string]any{}
		d.eachEntry(n, path, func(key string, k, val *yaml.Node) {
			keyPath := joinPath(path, key)
			d.src.record(keyPath, nodePos(k))
			m[key] = d.plainValue(val, keyPath)
		})
		*v = m
	case yaml.SequenceNode:
		list := make([]any, len(n.Content))
		for i, item := range n.Content {
			d.src.record(indexPath(path, i), nodePos(item))
			list[i] = d.plainValue(item, indexPath(path, i))
		}
		*v = list
	default:
		*v = plainScalar(n)
	}
}

// plainScalar is a scalar as the Go value its YAML type suggests, or its text.
func plainScalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		if b, ok := parseBool(n.Value); ok {
			return b
		}
	case "!!int":
		if i, err := parseInt(n.Value, 64); err == nil {
			return int(i)
		}
	case "!!float":
		if f, err := parseFloat(n.Value); err == nil {
			return f
		}
	}
	return n.Value
}
