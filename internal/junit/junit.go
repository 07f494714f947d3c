// Package junit writes JUnit XML, the test-results format CI systems display (GitHub
// Actions reporters, GitLab's artifacts:reports:junit, Jenkins): `lab grade -o junit`
// and gameday reports use it, one model for both.
package junit

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"
)

// Suite is one <testsuite>; its counts are computed from its cases by Encode.
type Suite struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
	// Properties are written as <properties> when there are any.
	Properties []Property `xml:"-"`
	// PropertyList is how Properties reach the XML (Encode fills it): a slice under
	// "properties>property" would write an empty <properties> for none.
	PropertyList *PropertyList `xml:"properties,omitempty"`
	Cases        []Case        `xml:"testcase"`
}

// PropertyList is the <properties> element.
type PropertyList struct {
	Properties []Property `xml:"property"`
}

// Property is a name and value of a suite (a grade's score).
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one <testcase>: passed when it has no Failure, Error or Skipped.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *Message `xml:"failure,omitempty"`
	Error     *Message `xml:"error,omitempty"`
	Skipped   *Message `xml:"skipped,omitempty"`
	SystemOut *Text    `xml:"system-out,omitempty"`
}

// Message is a failure, error or skip: a one-line message and details.
type Message struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// Text is element text written as CDATA, so evidence's lines and quotes stay readable.
type Text struct {
	Text string `xml:",cdata"`
}

// Document is the <testsuites> root, as Encode writes it and tests read it back.
type Document struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Encode writes the document named name holding the suites, with every count (of each

// (d, as Seconds writes it).
func Encode(name string, total time.Duration, list ...Suite) ([]byte, error) {
	doc := Document{Name: name, Time: Seconds(total)}
	for i := range list {
		s := &list[i]
		s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
		s.PropertyList = nil
		if len(s.Properties) > 0 {
			s.PropertyList = &PropertyList{Properties: s.Properties}
		}
		for _, c := range s.Cases {
			s.Failures += count(c.Failure)
			s.Errors += count(c.Error)
			s.Skipped += count(c.Skipped)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	doc.Suites = list
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

func count(m *Message) int {
	if m == nil {
		return 0
	}
	return 1
}

// Seconds is a duration as JUnit writes times: seconds with three decimals.
func Seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
