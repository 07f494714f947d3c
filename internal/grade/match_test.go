package grade

import (
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/spec"
)

func matcher(op string, value float64) spec.Matcher { return spec.Matcher{Op: op, Value: &value} }

func TestDiffPartial(t *testing.T) {
	t.Parallel()
	object := map[string]any{
		"metadata": map[string]any{"name": "backend", "labels": map[string]any{"app.kubernetes.io/name": "shop"}},
		"spec": map[string]any{
			"replicas": int64(3),
			"paused":   false,
			"containers": []any{
				map[string]any{"name": "sidecar", "image": "busybox"},
				map[string]any{"name": "app", "image": "nginx:1.27", "ports": []any{map[string]any{"containerPort": int64(80)}}},
			},
			"args": []any{"--a", "--b"},
		},
	}
	tests := []struct {
		name string
		want map[string]any
		diff []string // substrings, one per expected difference, in order
	}{
		{"fields left out are ignored", map[string]any{"spec": map[string]any{"replicas": 3}}, nil},
		{"numbers compare by value", map[string]any{"spec": map[string]any{"replicas": 3.0}}, nil},
		{"text of another type matches", map[string]any{"spec": map[string]any{"replicas": "3"}}, nil},
		{"a list item anywhere in the list", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "app"}}}}, nil},
		{"nested lists", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"ports": []any{map[string]any{"containerPort": 80}}}}}}, nil},
		{"scalar subset in any order", map[string]any{"spec": map[string]any{"args": []any{"--b", "--a"}}}, nil},
		{"keys with dots", map[string]any{"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "web"}}},
			[]string{`metadata.labels["app.kubernetes.io/name"]: expected "web", got "shop"`}},
		{"a different value", map[string]any{"spec": map[string]any{"replicas": 5}}, []string{"spec.replicas: expected 5, got 3"}},
		{"present with any value", map[string]any{"spec": map[string]any{"paused": spec.Matcher{Op: spec.MatchExists}}}, nil},
		{"present, but absent", map[string]any{"spec": map[string]any{"strategy": spec.Matcher{Op: spec.MatchExists}}},
			[]string{"spec.strategy: expected present (any value), got nothing"}},
		{"a numeric comparison that holds", map[string]any{"spec": map[string]any{"replicas": matcher(">=", 2)}}, nil},
		{"a numeric comparison that does not", map[string]any{"spec": map[string]any{"replicas": matcher(">", 3)}}, []string{"spec.replicas: expected > 3, got 3"}},
		{"a comparison on text that is no number", map[string]any{"spec": map[string]any{"args": []any{matcher("<", 1)}}},
			[]string{`spec.args: no item matches < 1; the list is ["--a","--b"]`}},
		{"a comparison on a field left out", map[string]any{"spec": map[string]any{"minReadySeconds": matcher(">=", 0)}},
			[]string{"spec.minReadySeconds: expected >= 0, got nothing"}},
		{"a missing field", map[string]any{"spec": map[string]any{"strategy": "Recreate"}}, []string{`spec.strategy: expected "Recreate", got nothing`}},
		{"false is a value", map[string]any{"spec": map[string]any{"paused": true}}, []string{"spec.paused: expected true, got false"}},
		{"no item matches, closest named", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "nginx:1.28"}}}},
			[]string{`spec.containers: no item matches {"image":"nginx:1.28","name":"app"}; closest is item 1: image: expected "nginx:1.28", got "nginx:1.27"`}},
		{"two wanted items cannot share one", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "app"}, map[string]any{"image": "nginx:1.27"}}}},
			[]string{`spec.containers: no item matches {"image":"nginx:1.27"}`}},
		{"scalar missing from a list", map[string]any{"spec": map[string]any{"args": []any{"--c"}}}, []string{`spec.args: no item matches "--c"; the list is ["--a","--b"]`}},
		{"a mapping where a list is", map[string]any{"spec": map[string]any{"args": map[string]any{"a": 1}}}, []string{"spec.args: expected a mapping, got"}},
	}
	for _, tt := range tests {
		got := diffPartial("", tt.want, object)
		if len(got) != len(tt.diff) {
			t.Errorf("%s: diff = %q, want %d lines like %q", tt.name, got, len(tt.diff), tt.diff)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tt.diff[i]) {
				t.Errorf("%s: diff[%d] = %q, want it to contain %q", tt.name, i, got[i], tt.diff[i])
			}
		}
	}
}

func TestUnmatchedFindsAMaximumMatching(t *testing.T) {
	t.Parallel()
	// Wanted 0 fits items 0 and 1, wanted 1 fits only item 0: a greedy pass would give
	// item 0 to wanted 0 and leave wanted 1 out.
	fits := [][]bool{{true, true}, {true, false}}
	if left := unmatched(fits, 2); len(left) != 0 {
		t.Errorf("unmatched = %v, want none", left)
	}
	if left := unmatched([][]bool{{true}, {true}}, 1); len(left) != 1 || left[0] != 1 {
		t.Errorf("unmatched = %v, want [1]", left)
	}
}

// TestMatcherOnAnnotation: a rollout graded by its revision annotation (a string holding a
// number) without an absolute revision: >= 2 passes on "2" and "3", fails on "1".
func TestMatcherOnAnnotation(t *testing.T) {
	t.Parallel()
	want := map[string]any{"metadata": map[string]any{"annotations": map[string]any{"deployment.kubernetes.io/revision": matcher(">=", 2)}}}
	for rev, pass := range map[string]bool{"1": false, "2": true, "3": true, "x": false} {
		obj := map[string]any{"metadata": map[string]any{"annotations": map[string]any{"deployment.kubernetes.io/revision": rev}}}
		diff := diffPartial("", want, obj)
		if (len(diff) == 0) != pass {
			t.Errorf("revision %q: diff %v, want pass %v", rev, diff, pass)
		}
	}
}
