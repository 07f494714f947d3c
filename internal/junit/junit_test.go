package junit

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// Counts come from the cases, per suite and in all, whatever the caller set; a suite
// without properties writes no <properties>; details stay readable (CDATA).
func TestEncodeCountsTheCases(t *testing.T) {
	t.Parallel()
	a := Suite{Name: "a", Tests: 99, Cases: []Case{
		{Name: "ok", SystemOut: &Text{Text: `said "hi" <there>`}},
		{Name: "failed", Failure: &Message{Message: "no"}},
		{Name: "skipped", Skipped: &Message{Message: "later"}},
	}}
	b := Suite{Name: "b", Properties: []Property{{Name: "score", Value: "1/2"}}, Cases: []Case{
		{Name: "errored", Error: &Message{Message: "broken", Type: "error"}},
	}}
	data, err := Encode("doc", 1500*time.Millisecond, a, b)
	if err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("does not parse: %v\n%s", err, data)
	}
	if doc.Name != "doc" || doc.Time != "1.500" || doc.Tests != 4 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 {
		t.Errorf("document counts: %+v", doc)
	}
	if s := doc.Suites[0]; s.Tests != 3 || s.Failures != 1 || s.Skipped != 1 || s.Errors != 0 {
		t.Errorf("suite a counts: tests %d failures %d skipped %d errors %d", s.Tests, s.Failures, s.Skipped, s.Errors)
	}
	text := string(data)
	if strings.Count(text, "<properties>") != 1 || !strings.Contains(text, `<![CDATA[said "hi" <there>]]>`) {
		t.Errorf("properties or CDATA not as expected:\n%s", text)
	}
}
