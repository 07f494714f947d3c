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

	"k8s.io/apimachinery/pkg/api/resource"

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
		{"bad-rollout", params(spec.FaultParams{Target: "deploy/web", Mode: "explode"}, "target", "mode"), []string{"--mode: must be image, crash or args"}},
		{"bad-rollout", params(spec.FaultParams{Target: "deploy/web", Mode: "crash", Image: "x"}, "target", "mode", "image"), []string{"--image: applies to mode image, not crash"}},
		{"bad-rollout", params(spec.FaultParams{Target: "rollout/web", Mode: "args", Args: []string{"--random-error=true"}}, "target", "mode", "args"), nil},
		{"bad-rollout", params(spec.FaultParams{Target: "rollout/web", Mode: "args"}, "target", "mode"), []string{"--args: mode args needs the arguments"}},
		{"bad-rollout", params(spec.FaultParams{Target: "rollout/web", Args: []string{"-x"}}, "target", "args"), []string{"--args: applies to mode args, not image"}},
		{"bad-rollout", params(spec.FaultParams{Target: "statefulset/web"}, "target"), []string{"deployment/NAME or rollout/NAME"}},
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
		{lab: Lab{Name: "a", Simulated: false}, url: "http://g", want: "has no monitoring stack"},
		{lab: Lab{Name: "a", Simulated: true, Stacks: []string{"monitoring"}}, url: "http://g", want: "on sim no container runs"},
		{lab: Lab{Name: "a", Simulated: false, Stacks: []string{"monitoring"}}, want: "pass --grafana-url"},
		{lab: Lab{Name: "a", Simulated: false, Stacks: []string{"monitoring"}}, url: "http://g", use: true},
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

func TestCheckGrowth(t *testing.T) {
	t.Parallel()
	ref := ObjectRef{Kind: "Deployment", Namespace: "shop", Name: "web"}
	room := podRoom{Nodes: 2, Allocatable: 220, Used: 20} // 200 free slots
	tests := []struct {
		name              string
		original, wanted  int32
		room              podRoom
		lim               Limits
		want, wantHint    string
		wantParamReplicas bool
	}{
		{name: "scaling down is not growth", original: 3, wanted: 0, room: room},
		{name: "within the free slots", original: 3, wanted: 203, room: room},
		{name: "one above the free slots", original: 3, wanted: 204, room: room,
			want:     "scale would add 201 pods to shop/deployment/web (3 -> 204 replicas), more than the 200 free pod slots of the lab's 2 schedulable node(s) (220 allocatable, 20 in use)",
			wantHint: "scale to at most 203, or pass --beyond-capacity if you mean it"},
		{name: "a hundred thousand", original: 3, wanted: 100000, room: room, want: "scale would add 99997 pods"},
		{name: "beyond capacity on purpose", original: 3, wanted: 100000, room: room, lim: Limits{BeyondCapacity: true}},
		{name: "more pods in use than allocatable", original: 0, wanted: 1, room: podRoom{Nodes: 1, Allocatable: 10, Used: 12},
			want: "more than the 0 free pod slots of the lab's 1 schedulable node(s) (10 allocatable, 12 in use)"},
		{name: "no schedulable node", original: 1, wanted: 2, room: podRoom{},
			want: "more than the 0 free pod slots of the lab's 0 schedulable node(s)"},
		{name: "in a gameday file", original: 1, wanted: 500, room: room, lim: Limits{inFile: true},
			want: "scale would add 499 pods", wantHint: "set spec.blastRadius.beyondCapacity: true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkGrowth(ref, tt.original, tt.wanted, tt.room, tt.lim)
			assertRefusal(t, err, "replicas", tt.want, tt.wantHint)
		})
	}
}

func TestCheckHogSize(t *testing.T) {
	t.Parallel()
	cpu, mem := resource.MustParse("8"), resource.MustParse("16Gi")
	tests := []struct {
		name, param, amount string
		allocatable         resource.Quantity
		lim                 Limits
		want, wantHint      string
	}{
		{name: "the default cpu", param: "cpu", amount: "1", allocatable: cpu},
		{name: "all of the node's cpu", param: "cpu", amount: "8", allocatable: cpu},
		{name: "millicores above", param: "cpu", amount: "8001m", allocatable: cpu,
			want: "the hog would use up to 8001m CPU, more than the 8 allocatable on node n1 where it runs"},
		{name: "a thousand cpus", param: "cpu", amount: "1000", allocatable: cpu,
			want: "up to 1k CPU, more than the 8 allocatable", wantHint: "ask for at most 8, or pass --beyond-capacity if you mean it"},
		{name: "memory within", param: "memory", amount: "16Gi", allocatable: mem},
		{name: "ten tebibytes", param: "memory", amount: "10Ti", allocatable: mem,
			want: "the hog would use up to 10Ti memory, more than the 16Gi allocatable on node n1"},
		{name: "decimal units compare by value", param: "memory", amount: "17G", allocatable: mem}, // 17e9 bytes < 16Gi
		{name: "decimal units above", param: "memory", amount: "18G", allocatable: mem,
			want: "up to 18G memory, more than the 16Gi"},
		{name: "beyond capacity on purpose", param: "memory", amount: "10Ti", allocatable: mem, lim: Limits{BeyondCapacity: true}},
		{name: "a bad quantity is Validate's", param: "cpu", amount: "lots", allocatable: cpu},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkHogSize(tt.param, tt.amount, "n1", tt.allocatable, tt.lim)
			assertRefusal(t, err, tt.param, tt.want, tt.wantHint)
		})
	}
}

// assertRefusal checks a capacity refusal: none when want is empty, else invalid input
// about param saying want (and the hint wantHint).
func assertRefusal(t *testing.T, err error, param, want, wantHint string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var pe *paramError
	if errs.KindOf(err) != errs.Invalid || !errors.As(err, &pe) || pe.param != param {
		t.Fatalf("err = %v (kind %v), want invalid input about %s", err, errs.KindOf(err), param)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if hint := errs.HintOf(err); !strings.Contains(hint, wantHint) {
		t.Errorf("hint %q does not say %q", hint, wantHint)
	}
}
