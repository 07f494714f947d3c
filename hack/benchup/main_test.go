package main

import (
	"strings"
	"testing"
)

func TestSummarise(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Summary
	}{
		{"5\n", Summary{Runs: 1, Median: 5, Min: 5, Max: 5}},
		{"30 10 20\n", Summary{Runs: 3, Median: 20, Min: 10, Max: 30}},
		{"4\n1\n3\n2\n", Summary{Runs: 4, Median: 2, Min: 1, Max: 4}},
	} {
		got, err := summarise(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("summarise(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "  \n", "12 x"} {
		if _, err := summarise(bad); err == nil {
			t.Errorf("summarise(%q) accepted", bad)
		}
	}
}

func TestSplice(t *testing.T) {
	created, err := splice("", "a", "one\n")
	if err != nil || !strings.HasPrefix(created, Intro) || !strings.HasSuffix(created, "<!-- a:start -->\none\n<!-- a:end -->\n") {
		t.Fatalf("new doc: %q, %v", created, err)
	}
	two, err := splice(created, "b", "two")
	if err != nil || !strings.HasSuffix(two, "<!-- a:end -->\n\n<!-- b:start -->\ntwo\n<!-- b:end -->\n") {
		t.Fatalf("appended: %q, %v", two, err)
	}
	replaced, err := splice(two, "a", "uno\n")
	want := strings.Replace(two, "\none\n", "\nuno\n", 1)
	if err != nil || replaced != want {
		t.Fatalf("replaced: %q, %v; want %q", replaced, err, want)
	}
	for _, broken := range []string{
		"x\n<!-- a:start -->\n",
		"x\n<!-- a:end -->\n<!-- a:start -->\n",
		"<!-- a:start -->\n<!-- a:end -->\n<!-- a:start -->\n<!-- a:end -->\n",
	} {
		if _, err := splice(broken, "a", "s"); err == nil {
			t.Errorf("splice accepted %q", broken)
		}
	}
}
