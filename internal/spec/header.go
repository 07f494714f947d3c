package spec

import (
	"fmt"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// DecodeVersioned is Decode for a file that starts with apiVersion and kind. When they
// are not the wanted ones it reports only that, and returns a nil Source like for a
// syntax error: the rest of such a file follows another schema, so strict errors about
// its fields would be noise.
func DecodeVersioned(file string, data []byte, apiVersion, kind string, out any) (*Source, error) {
	return decode(file, data, out, func(src *Source, root *yaml.Node) {
		checkHeader(src, root, apiVersion, kind)
	})
}

// checkHeader adds problems for a missing or different apiVersion or kind. A root that
// is not a mapping is left to the decoder, which says so.
func checkHeader(src *Source, root *yaml.Node, apiVersion, kind string) {
	if root != nil && root.Kind != yaml.MappingNode {
		return
	}
	checkHeaderField(src, root, "apiVersion", apiVersion, func(found string) string {
		return found + " is not supported; this build reads " + apiVersion
	})
	checkHeaderField(src, root, "kind", kind, func(found string) string {
		return "must be " + strconv.Quote(kind) + ", got " + found
	})
}

// checkHeaderField checks that root has key set to want; mismatch explains a different
// value, given its description.
func checkHeaderField(src *Source, root *yaml.Node, key, want string, mismatch func(found string) string) {
	k, v := lookup(root, key)
	if k == nil {
		src.add(src.At(""), key, fmt.Sprintf("is required: add %q", key+": "+want))
		return
	}
	if v.Kind == yaml.ScalarNode && v.Value == want {
		return
	}
	src.add(nodePos(k), key, mismatch(describeValue(v)))
}

// describeValue is a value as a user wrote it: a quoted string, or its type.
func describeValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return strconv.Quote(truncate(n.Value, 60))
	}
	return describe(n)
}

// lookup finds the first key named key in mapping m (nil when absent or m is nil).
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}
