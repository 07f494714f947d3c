package spec

import (
	"encoding"
	"errors"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Scalars are decoded strictly by their YAML type: an integer field takes 3 but not "3" or
// 3.0, a boolean takes true but not "true" or yes. Strings are the exception: they take
// any scalar's text (see decodeString).

func (d *decoder) decodeText(n *yaml.Node, path string, out reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.wrongType(n, path, "a string")
		return
	}
	if err := out.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
		d.fail(n, path, "%v", err)
	}
}

// durationSyntax is the shape of a Go duration: numbers, each with a unit of letters.
var durationSyntax = regexp.MustCompile(`^[-+]?([0-9]*(\.[0-9]*)?[a-zµμ]+)+$`)

var durationUnit = regexp.MustCompile(`[a-zµμ]+`)

// validUnits reports whether every unit of a duration-shaped text is one Go knows.
func validUnits(s string) bool {
	for _, unit := range durationUnit.FindAllString(s, -1) {
		switch unit {
		case "ns", "us", "µs", "μs", "ms", "s", "m", "h":
		default:
			return false
		}
	}
	return true
}

func (d *decoder) decodeDuration(n *yaml.Node, path string, out reflect.Value) {
	const want = `a duration such as "30s" or "3m"`
	if n.Kind != yaml.ScalarNode {
		d.wrongType(n, path, want)
		return
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case err == nil:
		out.SetInt(int64(v))
	case durationSyntax.MatchString(n.Value) && validUnits(n.Value):
		// Written as a duration, and too long for one: not a type error.
		d.fail(n, path, "%s is too long for a duration (at most %s, about 292 years)", n.Value, time.Duration(math.MaxInt64))
	case n.ShortTag() == "!!str" && durationSyntax.MatchString(n.Value):
		d.fail(n, path, "expected %s, got %q: units are ns, us, ms, s, m and h", want, n.Value)
	default:
		d.wrongType(n, path, want)
	}
}

// decodeString takes any scalar's text: "version: 1.30" keeps "1.30" rather than failing,
// and validation then says what the value should look like.
func (d *decoder) decodeString(n *yaml.Node, path string, out reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.wrongType(n, path, "a string")
		return
	}
	out.SetString(n.Value)
}

func (d *decoder) decodeBool(n *yaml.Node, path string, out reflect.Value) {
	b, ok := parseBool(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || !ok {
		d.wrongType(n, path, "a boolean (true or false)")
		return
	}
	out.SetBool(b)
}

func (d *decoder) decodeInt(n *yaml.Node, path string, out reflect.Value) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.wrongType(n, path, "an integer")
		return
	}
	i, err := parseInt(n.Value, out.Type().Bits())
	switch {
	case errors.Is(err, strconv.ErrRange):
		d.fail(n, path, "integer %s is out of range", n.Value)
	case err != nil:
		d.wrongType(n, path, "an integer")
	default:
		out.SetInt(i)
	}
}

func (d *decoder) decodeUint(n *yaml.Node, path string, out reflect.Value) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || strings.HasPrefix(n.Value, "-") {
		d.wrongType(n, path, "a non-negative integer")
		return
	}
	u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, out.Type().Bits())
	switch {
	case errors.Is(err, strconv.ErrRange):
		d.fail(n, path, "integer %s is out of range", n.Value)
	case err != nil:
		d.wrongType(n, path, "a non-negative integer")
	default:
		out.SetUint(u)
	}
}

func (d *decoder) decodeFloat(n *yaml.Node, path string, out reflect.Value) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!float" && tag != "!!int") {
		d.wrongType(n, path, "a number")
		return
	}
	f, err := parseFloat(n.Value)
	if err != nil || out.OverflowFloat(f) {
		d.wrongType(n, path, "a number")
		return
	}
	out.SetFloat(f)
}

// parseBool accepts the YAML 1.2 spellings; "yes" and "on" are strings.
func parseBool(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

func parseInt(s string, bits int) (int64, error) {
	return strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, bits)
}

// parseFloat also reads YAML's .inf and .nan.
func parseFloat(s string) (float64, error) {
	s = strings.ReplaceAll(s, "_", "")
	sign, rest := "", s
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		sign, rest = s[:1], s[1:]
	}
	if strings.HasPrefix(rest, ".") && len(rest) > 1 && (rest[1] == 'i' || rest[1] == 'I' || rest[1] == 'n' || rest[1] == 'N') {
		s = sign + rest[1:]
	}
	return strconv.ParseFloat(s, 64)
}

// describe names a node's type and value for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "alias *" + n.Value
	case yaml.ScalarNode:
		return describeScalar(n)
	}
	return "nothing"
}

func describeScalar(n *yaml.Node) string {
	value := truncate(n.Value, 40)
	switch n.ShortTag() {
	case "!!str":
		return "string " + strconv.Quote(value)
	case "!!int":
		return "integer " + bare(value)
	case "!!float":
		return "number " + bare(value)
	case "!!bool":
		return "boolean " + bare(value)
	case "!!null":
		return "null"
	}
	return n.ShortTag() + " " + strconv.Quote(value)
}

// bare leaves a value unquoted when quoting would change nothing but the quotes: a
// number reads better as 2 than "2", but an explicitly tagged "!!int 1 2" stays quoted.
func bare(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, " \t") && s != "" {
		return s
	}
	return q
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	return string(runes[:n-3]) + "..."
}
