package ui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
)

// Format is the value of -o/--output: how data is written to Out.
type Format string

const (
	FormatTable Format = "table" // for people: a table or details, plain when piped
	FormatJSON  Format = "json"  // pretty-printed JSON; progress events as JSON lines
	FormatYAML  Format = "yaml"  // YAML
)

// formats lists the valid output formats, in the order help text shows them.
var formats = []Format{FormatTable, FormatJSON, FormatYAML}

// ParseFormat checks an -o value; "" means table. An unknown value is an errs.Invalid
// error that lists the valid ones.
func ParseFormat(name string) (Format, error) {
	if name == "" {
		return FormatTable, nil
	}
	if f := Format(name); slices.Contains(formats, f) {
		return f, nil
	}
	return "", errs.Invalidf("table is the default, for people; json and yaml are for scripts",
		"unknown output format %q: valid formats are %s", name, FormatNames())
}

// FormatNames is the valid formats as "table, json, yaml", for flag help.
func FormatNames() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Count is n and a noun, plural unless n is 1: "1 step", "3 steps", "0 points". Nouns
// whose plural is not noun+"s" are not for Count.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
