package charts_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// footprint is what a chart asks of the cluster: the sum over its pods of the
// containers' requests and limits.
type footprint struct {
	pods                           int
	cpuReq, cpuLim, memReq, memLim resource.Quantity
}

func (f *footprint) add(o footprint) {
	f.pods += o.pods
	f.cpuReq.Add(o.cpuReq)
	f.cpuLim.Add(o.cpuLim)
	f.memReq.Add(o.memReq)
	f.memLim.Add(o.memLim)
}

func (f footprint) String() string {
	mi := func(q resource.Quantity) string { return fmt.Sprintf("%dMi", q.Value()/(1<<20)) }
	return fmt.Sprintf("%3d pods  cpu %5dm req / %5dm lim  memory %6s req / %6s lim",
		f.pods, f.cpuReq.MilliValue(), f.cpuLim.MilliValue(), mi(f.memReq), mi(f.memLim))
}

// chartFootprint sums requests and limits over every pod a rendering runs: replicas
// of each Deployment and StatefulSet, one pod per node for each DaemonSet. (Init
// containers would count as the larger of their own and the app containers' sum;
// the charts have none, which TestFootprint checks.)
func chartFootprint(t *testing.T, r *rendering, nodes int) footprint {
	t.Helper()
	var total footprint
	for _, w := range r.workloads(t, nodes) {
		if len(w.template.Spec.InitContainers) > 0 {
			t.Fatalf("%s %s has init containers; the footprint does not count them", w.kind, w.name)
		}
		var pod footprint
		for _, c := range w.template.Spec.Containers {
			pod.cpuReq.Add(c.Resources.Requests[corev1.ResourceCPU])
			pod.cpuLim.Add(c.Resources.Limits[corev1.ResourceCPU])
			pod.memReq.Add(c.Resources.Requests[corev1.ResourceMemory])
			pod.memLim.Add(c.Resources.Limits[corev1.ResourceMemory])
		}
		for range w.pods {
			total.add(footprint{pods: 1, cpuReq: pod.cpuReq, cpuLim: pod.cpuLim, memReq: pod.memReq, memLim: pod.memLim})
		}
	}
	return total
}

// defaultLabCharts are the charts of the default lab's stacks (labs/default.yaml);
// the full lab (labs/full.yaml) runs every bundled chart.
var defaultLabCharts = []string{"monitoring", "demo-shop"}

// budgets cap a chart's memory requests in the lite profile: the delivery stack
// (controller and dashboard) must stay a small addition to the default lab.
var budgets = map[string]string{"delivery": "256Mi"}

// TestFootprint: the default lab (monitoring and demo-shop, lite profile, two nodes)
// requests at most 1.5 GiB of memory in total, the budget; a chart with a
// budget of its own (delivery) keeps to it in lite; and every chart's full profile
// asks for more than its lite one. The figures go to the test log.
func TestFootprint(t *testing.T) {
	t.Parallel()
	budget := resource.MustParse("1.5Gi")
	var report strings.Builder
	totals := map[string]footprint{}
	for _, profile := range profilesUnderTest {
		var lab, all footprint
		for _, name := range Names() {
			f := chartFootprint(t, render(t, name, profile, name, nil), labNodes[profile])
			totals[name+"/"+profile] = f
			if slices.Contains(defaultLabCharts, name) {
				lab.add(f)
			}
			all.add(f)
			fmt.Fprintf(&report, "\n  %-10s %-5s (%d nodes)  %s", name, profile, labNodes[profile], f)
		}
		totals["lab/"+profile] = lab
		fmt.Fprintf(&report, "\n  %-10s %-5s (%d nodes)  %s", "default", profile, labNodes[profile], lab)
		fmt.Fprintf(&report, "\n  %-10s %-5s (%d nodes)  %s", "all", profile, labNodes[profile], all)
	}
	t.Logf("footprint of the bundled charts:%s", report.String())

	lite := totals["lab/lite"]
	if lite.memReq.Cmp(budget) > 0 {
		t.Errorf("the default lab (lite) requests %s of memory, over the %s budget", lite.memReq.String(), budget.String())
	}
	if lite.memReq.IsZero() || lite.pods == 0 {
		t.Fatalf("nothing counted: %s", lite)
	}
	for name, b := range budgets {
		if f := totals[name+"/lite"]; f.memReq.Cmp(resource.MustParse(b)) > 0 || f.pods == 0 {
			t.Errorf("%s (lite) requests %s of memory in %d pods, over its %s budget", name, f.memReq.String(), f.pods, b)
		}
	}
	for _, name := range Names() {
		l, f := totals[name+"/lite"], totals[name+"/full"]
		if f.memReq.Cmp(l.memReq) <= 0 || f.cpuReq.Cmp(l.cpuReq) <= 0 {
			t.Errorf("%s: full (%s) does not ask for more than lite (%s)", name, f, l)
		}
	}
}

// TestFootprintCounts checks the arithmetic on a chart whose numbers are known: the
// lite demo-shop runs four pods (frontend, backend, cache, loadgen) requesting
// 32+32+(24+16)+8 = 112Mi; with two frontend replicas it is 144Mi.
func TestFootprintCounts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		overrides map[string]any
		pods      int
		memReq    string
	}{
		{nil, 4, "112Mi"},
		{values("frontend.replicas", 2), 5, "144Mi"},
		{values("loadgen.enabled", false, "cache.exporter.enabled", false), 3, "88Mi"},
	}
	for _, tc := range cases {
		f := chartFootprint(t, render(t, "demo-shop", "lite", "demo-shop", tc.overrides), 2)
		if want := resource.MustParse(tc.memReq); f.pods != tc.pods || f.memReq.Cmp(want) != 0 {
			t.Errorf("%v: %s, want %d pods and %s requested", tc.overrides, f, tc.pods, tc.memReq)
		}
	}
	// A DaemonSet counts once per node.
	mon := render(t, "monitoring", "lite", "monitoring", nil)
	two, three := chartFootprint(t, mon, 2), chartFootprint(t, mon, 3)
	if three.pods != two.pods+1 || three.memReq.Value()-two.memReq.Value() != 16<<20 {
		t.Errorf("a third node adds %d pods and %d bytes, want 1 pod and node-exporter's 16Mi", three.pods-two.pods, three.memReq.Value()-two.memReq.Value())
	}
}
