package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/spec"
)

func TestFlagName(t *testing.T) {
	t.Parallel()
	for param, want := range map[string]string{"count": "--count", "gracePeriod": "--grace-period", "abortStatus": "--abort-status", "maxPercent": "--max-percent"} {
		if got := FlagName(param); got != want {
			t.Errorf("FlagName(%q) = %q, want %q", param, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	neg := -time.Second
	tests := []struct {
		fault  string
		params Params
		want   []string // each a substring of one problem, "" for none
	}{
		{"pod-kill", params(spec.FaultParams{Selector: "app=web", Count: 2}, "selector", "count"), nil},
		{"pod-kill", params(spec.FaultParams{Count: 0}, "count"), []string{"--count: must be at least 1"}},
		{"pod-kill", params(spec.FaultParams{Count: 1, Percent: 10}, "count", "percent"), []string{"--percent: give either count or percent"}},
		{"pod-kill", params(spec.FaultParams{Percent: 101}, "percent"), []string{"--percent: must be between 1 and 100"}},
		{"pod-kill", params(spec.FaultParams{Selector: "app in (", GracePeriod: &neg}, "selector", "gracePeriod"), []string{"--selector: \"app in (\" is not a label selector", "--grace-period: must not be negative"}},
		{"pod-kill", params(spec.FaultParams{Namespace: "Not_A_NS"}, "namespace"), []string{"--namespace: \"Not_A_NS\" is not a namespace name"}},
		{"pod-kill", params(spec.FaultParams{Key: "x"}, "key"), []string{"--key: does not apply to pod-kill"}},
		{"scale", params(spec.FaultParams{}), []string{"--target: is required", "--replicas: is required"}},
		{"scale", params(spec.FaultParams{Target: "configmap/x", Replicas: ptr[int32](1)}, "target", "replicas"), []string{"--target: \"configmap/x\" is not a target here: write deployment/NAME or statefulset/NAME or replicaset/NAME"}},
		{"scale", params(spec.FaultParams{Target: "deploy/web", Replicas: ptr[int32](-1)}, "target", "replicas"), []string{"--replicas: must not be negative"}},
		{"bad-rollout", params(spec.FaultParams{Target: "deploy/web", Mode: "explode"}, "target", "mode"), []string{"--mode: must be image or crash"}},
		{"bad-rollout", params(spec.FaultParams{Target: "deploy/web", Mode: "crash", Image: "x"}, "target", "mode", "image"), []string{"--image: applies to mode image"}},
		{"config-break", params(spec.FaultParams{Target: "secret/db"}, "target"), []string{"--key: is required"}},
		{"config-break", params(spec.FaultParams{Target: "cm/app", Key: "k", Mode: "burn"}, "target", "key", "mode"), []string{"--mode: must be corrupt or remove"}},
		{"node-drain", params(spec.FaultParams{}), []string{"--node: is required"}},
		{"node-stop", params(spec.FaultParams{Node: "n", Count: 1}, "node", "count"), []string{"--count: does not apply to node-stop"}},
		{"cpu-hog", params(spec.FaultParams{Target: "deploy/web", CPU: "lots"}, "target", "cpu"), []string{"--cpu: \"lots\" is not a quantity"}},
		{"cpu-hog", params(spec.FaultParams{CPU: "1"}, "cpu"), []string{"--target: give either target"}},
		{"memory-hog", params(spec.FaultParams{Selector: "app=web", Memory: "0"}, "selector", "memory"), []string{"--memory: must be more than zero"}},
		{"http-delay", params(spec.FaultParams{Target: "svc/api"}, "target"), []string{"--delay: is required"}},
		{"http-abort", params(spec.FaultParams{Target: "svc/api", AbortStatus: 99}, "target", "abortStatus"), []string{"--abort-status: must be an HTTP status"}},
	}
	for _, tt := range tests {
		t.Run(tt.fault+" "+strings.Join(tt.params.Given, ","), func(t *testing.T) {
			t.Parallel()
			f, err := Lookup(tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			problems := f.Validate(tt.params)
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d: %q", problems.Error(), len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(problems.Error(), w) {
					t.Errorf("problems %q do not say %q", problems.Error(), w)
				}
			}
		})
	}
}

func TestValidateRunRejectsBadLimitsAndDurations(t *testing.T) {
	t.Parallel()
	f, _ := Lookup("pod-kill")
	err := validateRun(f, RunOptions{Limits: Limits{MaxPods: 0, MaxPercent: 101}, Duration: 13 * time.Hour})
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("err = %v, want invalid input", err)
	}
	for _, w := range []string{"--max-pods: must be at least 1", "--max-percent: must be between 1 and 100", "--duration: must be between 0s and 12h0m0s"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
}

func TestLookupUnknownFault(t *testing.T) {
	t.Parallel()
	_, err := Lookup("pod-kil")
	if err == nil || !strings.Contains(err.Error(), `unknown fault "pod-kil"`) || !strings.Contains(err.Error(), "pod-kill, scale") {
		t.Fatalf("err = %v", err)
	}
}

func TestGuardBlastRadius(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxPods: 10, MaxPercent: 50}
	tests := []struct {
		victims, total int
		want           string
	}{
		{victims: 5, total: 10},
		{victims: 1, total: 1, want: "1 of the 1 pods here (100%)"},
		{victims: 6, total: 10, want: "6 of the 10 pods here (60%), above the blast-radius cap of 50%"},
		{victims: 11, total: 100, want: "11 pods, above the blast-radius cap of 10 pods"},
		{victims: 3, total: 0}, // no total: only the pod cap applies
	}
	for _, tt := range tests {
		err := guardBlastRadius("pod-kill", "delete", tt.victims, tt.total, "here", lim)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%d of %d: %v", tt.victims, tt.total, err)
			}
			continue
		}
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%d of %d: %v, want %q", tt.victims, tt.total, err, tt.want)
		}
	}
}

func TestChooseIsAFunctionOfTheSeed(t *testing.T) {
	t.Parallel()
	var pods []podRef
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		pods = append(pods, podRef{Name: n})
	}
	names := func(seed int64) string {
		var s []string
		for _, p := range choose(newRand(seed), pods, 3) {
			s = append(s, p.Name)
		}
		return strings.Join(s, ",")
	}
	if names(7) != names(7) {
		t.Fatal("the same seed chose differently")
	}
	distinct := map[string]bool{}
	for seed := range int64(20) {
		distinct[names(seed)] = true
	}
	if len(distinct) < 10 {
		t.Errorf("20 seeds gave only %d distinct choices", len(distinct))
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, kind, name string
		ok             bool
	}{
		{"deployment/web", "Deployment", "web", true},
		{"deploy/web", "Deployment", "web", true},
		{"sts/db", "StatefulSet", "db", true},
		{"cm/app-config", "ConfigMap", "app-config", true},
		{"web", "", "", false},
		{"deployment/", "", "", false},
		{"deployment/Web_1", "", "", false},
		{"secret/x", "", "", false}, // not allowed below
	}
	for _, tt := range tests {
		kind, name, err := parseTarget(tt.in, "Deployment", "StatefulSet", "ConfigMap")
		if (err == nil) != tt.ok || kind != tt.kind || name != tt.name {
			t.Errorf("parseTarget(%q) = %q, %q, %v", tt.in, kind, name, err)
		}
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	j := Journal{Dir: filepath.Join(t.TempDir(), "chaos")}
	ctx := context.Background()
	older := &Entry{ID: "scale-000001", Fault: "scale", Phase: Active, CreatedAt: time.Now().Add(-time.Minute), Data: json.RawMessage(`{"original":3}`)}
	newer := &Entry{ID: "pod-kill-000002", Fault: "pod-kill", Phase: Pending, CreatedAt: time.Now(), Data: json.RawMessage(`{}`)}
	for _, e := range []*Entry{newer, older} {
		if err := j.Save(e); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(j.path(older.ID))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("entry file: %v, %v; want mode 0600 (a Secret's value may be in it)", info, err)
	}
	list, err := j.List()
	if err != nil || len(list) != 2 || list[0].ID != older.ID {
		t.Fatalf("List = %v, %v; want oldest first", list, err)
	}
	updated, err := j.Update(ctx, older.ID, func(e *Entry) { e.Phase = Reverted })
	if err != nil || updated.Phase != Reverted {
		t.Fatalf("Update = %+v, %v", updated, err)
	}
	if again, _ := j.Load(older.ID); again.Open() || compactJSON(t, again.Data) != `{"original":3}` {
		t.Fatalf("after update: %+v", again)
	}
	for _, bad := range []string{"", "../state", "a/b"} {
		if _, err := j.Load(bad); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load(%q) = %v, want not-exist", bad, err)
		}
	}
	os.WriteFile(filepath.Join(j.Dir, "broken.json"), []byte("{"), 0o600)
	if _, err := j.List(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("List with a corrupt entry: %v, want an error naming it", err)
	}
}

func TestProcessAlive(t *testing.T) {
	t.Parallel()
	if !self().Alive() {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	if (Process{PID: cmd.Process.Pid}).Alive() {
		t.Error("an exited process is alive")
	}
	reused := self()
	reused.Start++
	if reused.Alive() {
		t.Error("a pid with another start time counts as the same process")
	}
}

func TestGrafanaPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lab  Lab
		url  string
		use  bool
		want string
	}{
		{lab: Lab{Name: "a", Provider: "kind"}, url: "http://g", want: "has no monitoring stack"},
		{lab: Lab{Name: "a", Provider: "sim", Stacks: []string{"monitoring"}}, url: "http://g", want: "on sim no container runs"},
		{lab: Lab{Name: "a", Provider: "kind", Stacks: []string{"monitoring"}}, want: "pass --grafana-url"},
		{lab: Lab{Name: "a", Provider: "kind", Stacks: []string{"monitoring"}}, url: "http://g", use: true},
	}
	for _, tt := range tests {
		use, reason := GrafanaPlan(&tt.lab, tt.url)
		if use != tt.use || !strings.Contains(reason, tt.want) {
			t.Errorf("GrafanaPlan(%+v, %q) = %v, %q; want %v, %q", tt.lab, tt.url, use, reason, tt.use, tt.want)
		}
	}
}

// TestGrafanaClient checks the HTTP requests of the annotation client against a server
// that plays Grafana's API; a real Grafana needs the monitoring stack on kind.
func TestGrafanaClient(t *testing.T) {
	t.Parallel()
	type request struct {
		method, path, user, pass string
		body                     map[string]any
	}
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(data, &body)
		mu.Lock()
		got = append(got, request{r.Method, r.URL.Path, user, pass, body})
		mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json" && r.Method != http.MethodGet {
			http.Error(w, "want JSON", http.StatusUnsupportedMediaType)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/annotations":
			w.Write([]byte(`{"id": 17, "message": "Annotation added"}`))
		case r.Method == http.MethodPatch && r.URL.Path == "/api/annotations/17":
			w.Write([]byte(`{"message": "Annotation patched"}`))
		case r.Method == http.MethodGet && r.URL.Path == "/api/health":
			w.Write([]byte(`{"database": "ok"}`))
		default:
			http.Error(w, "not found", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	g := &Grafana{URL: srv.URL + "/", User: "admin", Password: "pw"}
	ctx := context.Background()
	injected := time.UnixMilli(1_700_000_000_000)
	e := &Entry{ID: "scale-abc123", Lab: "web", Fault: "scale", Summary: "scale x", Source: "run", InjectedAt: &injected}
	if err := g.Healthy(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := g.Start(ctx, e)
	if err != nil || id != 17 {
		t.Fatalf("Start = %d, %v", id, err)
	}
	if err := g.End(ctx, id, injected.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	post, patch := got[1], got[2]
	if post.user != "admin" || post.pass != "pw" || post.body["time"] != float64(1_700_000_000_000) ||
		!strings.Contains(post.body["text"].(string), "scale-abc123") || !slices.Contains(toStrings(post.body["tags"]), "lab-chaos") {
		t.Errorf("POST = %+v", post)
	}
	if patch.body["timeEnd"] != float64(1_700_000_060_000) {
		t.Errorf("PATCH = %+v", patch)
	}
	if _, err := (&Grafana{URL: srv.URL + "/missing"}).Start(ctx, e); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404 gives %v", err)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func compactJSON(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
