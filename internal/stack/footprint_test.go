package stack

import (
	"reflect"
	"strings"
	"testing"
)

const mi = 1 << 20

func TestFootprintSumsRenderedWorkloads(t *testing.T) {
	t.Parallel()
	cat := testCatalog(
		webStack("web", map[string]any{"replicas": 2}),
		Stack{Name: "agent", Namespace: "agent", Charts: []Chart{{Name: "agent"}}},
		Stack{Name: "widgets", Namespace: "widgets", DependsOn: []string{"web"}, Charts: []Chart{{Name: "widgets"}}},
	)
	fp, err := cat.Footprint([]string{"agent", "widgets"}, ProfileLite, 3, Source{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Footprint{Profile: ProfileLite, Nodes: 3, Stacks: []StackFootprint{
		// One pod per node: an init container larger than the rest sets the CPU
		// request, the sidecar adds to the containers, a limit alone is the request,
		// and the Job is not counted.
		{Stack: "agent", Pods: 3, Resources: Resources{CPURequestsMilli: 1500, CPULimitsMilli: 300, MemoryRequestsBytes: 360 * mi, MemoryLimitsBytes: 420 * mi}},
		// Pulled in as widgets' dependency; two replicas.
		{Stack: "web", Pods: 2, Resources: Resources{CPURequestsMilli: 20, MemoryRequestsBytes: 32 * mi, MemoryLimitsBytes: 64 * mi}},
		{Stack: "widgets", Pods: 1, Resources: Resources{CPURequestsMilli: 5, MemoryRequestsBytes: 8 * mi, NoMemoryLimit: 1}},
	}, Total: StackFootprint{Stack: "total", Pods: 6, Resources: Resources{
		CPURequestsMilli: 1525, CPULimitsMilli: 300, MemoryRequestsBytes: 400 * mi, MemoryLimitsBytes: 484 * mi, NoMemoryLimit: 1,
	}}}
	if !reflect.DeepEqual(fp, want) {
		t.Fatalf("footprint\n got %+v\nwant %+v", fp, want)
	}
}

func TestFootprintFollowsTheProfile(t *testing.T) {
	t.Parallel()
	s := Stack{Name: "sized", Namespace: "sized", Charts: []Chart{{Name: "web", Values: ProfileValues(map[string]map[string]any{
		ProfileLite: {"replicas": 1},
		ProfileFull: {"replicas": 3, "resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}, "limits": map[string]any{"memory": "256Mi"}}},
	})}}}
	tests := []struct {
		profile       string
		wantPods      int64
		wantMemoryReq int64
	}{
		{profile: ProfileLite, wantPods: 1, wantMemoryReq: 16 * mi},
		{profile: ProfileFull, wantPods: 3, wantMemoryReq: 3 * 128 * mi},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			t.Parallel()
			fp, err := testCatalog(s).Footprint([]string{"sized"}, tt.profile, 2, Source{})
			if err != nil {
				t.Fatal(err)
			}
			if fp.Total.Pods != tt.wantPods || fp.Total.MemoryRequestsBytes != tt.wantMemoryReq {
				t.Fatalf("%s: %d pods requesting %d bytes, want %d and %d", tt.profile, fp.Total.Pods, fp.Total.MemoryRequestsBytes, tt.wantPods, tt.wantMemoryReq)
			}
		})
	}
}

func TestCatalogValidateAndResolve(t *testing.T) {
	t.Parallel()
	cat := &Catalog{Stacks: []Stack{
		{Name: "a"}, {Name: "b", DependsOn: []string{"a"}}, {Name: "c", DependsOn: []string{"b"}},
		{Name: "loop1", DependsOn: []string{"loop2"}}, {Name: "loop2", DependsOn: []string{"loop1"}},
		{Name: "broken", DependsOn: []string{"nowhere"}},
		{Name: "shop", After: []string{"rollouts"}}, {Name: "rollouts", DependsOn: []string{"a"}},
	}}
	tests := []struct {
		name    string
		stacks  []string
		profile string
		want    string // resolved order, or the error's text
		wantErr bool
	}{
		{name: "dependencies first", stacks: []string{"c"}, want: "a b c"},
		{name: "each once", stacks: []string{"b", "a", "c"}, want: "a b c"},
		{name: "unknown stacks all named", stacks: []string{"a", "logging", "mesh"}, wantErr: true,
			want: `lab.yaml: unknown stacks "logging", "mesh"`},
		{name: "unknown profile", stacks: []string{"a"}, profile: "huge", wantErr: true, want: `lab.yaml: unknown profile "huge"`},
		{name: "cycle", stacks: []string{"loop1"}, wantErr: true, want: "dependency cycle loop1 -> loop2 -> loop1"},
		{name: "after a stack named too", stacks: []string{"shop", "rollouts"}, want: "a rollouts shop"},
		{name: "after a stack not named: no need", stacks: []string{"shop"}, want: "shop"},
		{name: "unknown dependency", stacks: []string{"broken"}, wantErr: true, want: `broken depends on unknown stack "nowhere"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := cat.Validate(tt.stacks, tt.profile, "lab.yaml")
			var order []Stack
			if err == nil {
				order, err = cat.Resolve(tt.stacks)
			}
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want it to contain %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range order {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Fatalf("order %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPromHolds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       bool
		wantWhy    string
	}{
		{name: "target up", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"prometheus"},"value":[1700000000.1,"1"]}]}}`, want: true},
		{name: "target down", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0"]}]}}`, wantWhy: "target is down"},
		{name: "no sample yet", body: `{"status":"success","data":{"resultType":"vector","result":[]}}`, wantWhy: "not been scraped"},
		{name: "query error", body: `{"status":"error","errorType":"bad_data","error":"parse error"}`, wantWhy: "parse error"},
		{name: "not Prometheus", body: `<html>502 Bad Gateway</html>`, wantWhy: "not a Prometheus answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, why := promHolds([]byte(tt.body))
			if got != tt.want || !strings.Contains(why, tt.wantWhy) {
				t.Fatalf("promHolds = %v, %q; want %v, %q", got, why, tt.want, tt.wantWhy)
			}
		})
	}
}
