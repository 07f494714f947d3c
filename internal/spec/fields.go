package spec

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// field is a struct field as YAML sees it: its json name and where it is in the struct,
// through embedded structs.
type field struct {
	name  string
	index []int
}

// fieldSet is the fields a struct accepts, in declaration order.
type fieldSet struct {
	list   []field
	byName map[string]field
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// fieldsOf lists the fields of struct type t, named as encoding/json would: the tag name,
// else the Go name; "-" and unexported fields are skipped; fields of an embedded struct
// without a tag name are promoted, losing to fields of the same name declared directly.
func fieldsOf(t reflect.Type) *fieldSet {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(*fieldSet)
	}
	set := &fieldSet{byName: map[string]field{}}
	set.collect(t, nil)
	cached, _ := fieldCache.LoadOrStore(t, set)
	return cached.(*fieldSet)
}

func (s *fieldSet) collect(t reflect.Type, index []int) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := jsonName(f)
		if !ok {
			continue
		}
		if name == "" {
			embedded = append(embedded, f)
			continue
		}
		s.add(name, append(append([]int(nil), index...), i))
	}
	for _, f := range embedded {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		s.collect(ft, append(append([]int(nil), index...), f.Index...))
	}
}

// jsonName is the name a field is written under; "" means an embedded struct whose fields
// are promoted; false means the field is not decoded.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if f.Anonymous && name == "" && isStructOrPointerToStruct(f.Type) {
		return "", true
	}
	if !f.IsExported() {
		return "", false
	}
	if name == "" {
		name = f.Name
	}
	return name, true
}

func isStructOrPointerToStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

func (s *fieldSet) add(name string, index []int) {
	if _, taken := s.byName[name]; taken {
		return
	}
	f := field{name: name, index: index}
	s.list = append(s.list, f)
	s.byName[name] = f
}

func (s *fieldSet) names() []string {
	names := make([]string, len(s.list))
	for i, f := range s.list {
		names[i] = f.name
	}
	return names
}

// unknown explains an unknown field: the likely typo, or else what is allowed.
func (s *fieldSet) unknown(name string) string {
	if guess := closest(name, s.names()); guess != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, guess)
	}
	if len(s.list) == 0 {
		return fmt.Sprintf("unknown field %q (no fields are allowed here)", name)
	}
	return fmt.Sprintf("unknown field %q (allowed: %s)", name, strings.Join(s.names(), ", "))
}

// fieldByIndex is v's field at index, allocating nil embedded pointers on the way. It
// fails only for a nil pointer to an unexported embedded struct, which cannot be set.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}
