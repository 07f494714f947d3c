package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// rootPos is where the document starts; an empty file starts at line 1.
func rootPos(root *yaml.Node) Pos {
	if root == nil {
		return Pos{Line: 1, Column: 1}
	}
	return nodePos(root)
}

// parseOneDocument parses data into a node tree. It returns nil for an empty file, and an
// error (without file name) for invalid YAML or a second document.
func parseOneDocument(data []byte) (*yaml.Node, *FieldError) {
	if line, ok := firstInvalidUTF8Line(data); !ok {
		return nil, &FieldError{Line: line, Message: "the file is not valid UTF-8 text"}
	}
	docs, err := parseDocuments(data)
	if err != nil {
		return nil, syntaxError(err, data)
	}
	var root *yaml.Node
	for _, doc := range docs {
		content := documentContent(doc)
		switch {
		case content == nil: // an empty document, such as after a trailing ---
		case root != nil:
			return nil, &FieldError{Line: doc.Line, Message: "a second YAML document starts here; a file holds exactly one (remove the extra ---)"}
		default:
			root = content
		}
	}
	return root, nil
}

// parseDocuments parses every document in data.
func parseDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

// decodeNode turns a panic inside the YAML parser into an error: a malformed file must
// never crash the CLI.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// documentContent is the value of a document node, or nil for an empty document.
func documentContent(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	n := doc.Content[0]
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" {
		return nil
	}
	return n
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a parser error into a FieldError on the line to fix.
func syntaxError(err error, data []byte) *FieldError {
	reported, msg := splitYAMLError(err)
	line := syntaxErrorLine(data, msg, reported)
	if startsWithTab(data, line) {
		msg += " (a tab indents this line; YAML indents with spaces only)"
	}
	return &FieldError{Line: line, Message: "invalid YAML: " + msg}
}

// startsWithTab reports whether the 1-based line of data is indented with a tab, the most
// common cause of YAML's least helpful message.
func startsWithTab(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return false
	}
	indent := bytes.TrimLeft(lines[line-1], " ")
	return len(indent) > 0 && indent[0] == '\t'
}

// splitYAMLError separates "yaml: line N: message" into N (0 when absent) and message.
func splitYAMLError(err error) (int, string) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// syntaxErrorLine finds the line of a syntax error. The parser often reports the line
// before the block that encloses the mistake, lines above it, and some errors have no
// line at all. The shortest prefix of the file that fails with the same message ends on
// the line to fix: parsing stops at the first error, so every longer prefix fails the same
// way and a binary search finds it in a few parses. (A prefix cut inside an unfinished
// flow list can fail alike too; the line found is then a little early.)
func syntaxErrorLine(data []byte, msg string, reported int) int {
	ends := lineEnds(data)
	lo, hi := 0, len(ends)-1 // the prefix ending at ends[hi], the whole file, fails with msg
	for lo < hi {
		mid := (lo + hi) / 2
		if failsWith(data[:ends[mid]], msg) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if hi < 0 {
		return max(reported, 1)
	}
	return hi + 1
}

// lineEnds is the offset just after each line of data.
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}

func failsWith(data []byte, msg string) bool {
	_, err := parseDocuments(data)
	if err == nil {
		return false
	}
	_, got := splitYAMLError(err)
	return got == msg
}

// firstInvalidUTF8Line returns false and the line of the first byte that is not UTF-8.
func firstInvalidUTF8Line(data []byte) (int, bool) {
	if utf8.Valid(data) {
		return 0, true
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return lineOf(data, i), false
		}
		i += size
	}
	return 1, false
}

// lineOf is the 1-based line of byte offset i.
func lineOf(data []byte, i int) int {
	return bytes.Count(data[:i], []byte("\n")) + 1
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }
