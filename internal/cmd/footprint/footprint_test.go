package footprint

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudnativelab/lab/internal/cmdutil"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/stack"
	"github.com/cloudnativelab/lab/internal/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// runFootprint runs `lab footprint args...` with the real catalog (the bundled charts).
func runFootprint(t *testing.T, output string, args ...string) (string, error) {
	t.Helper()
	ios, _, out, _ := ui.Test()
	f := &cmdutil.Factory{IO: ios, Globals: &cmdutil.Globals{Output: output},
		Manager: func(event.Sink) *lab.Manager { return &lab.Manager{Catalog: stack.Default(), CacheDir: t.TempDir()} }}
	cmd := NewCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// The default lab (monitoring and demo-shop, lite) must fit a laptop: at most 1.5 GiB
// of memory requests, from the charts as they are bundled.
func TestDefaultLabFootprintFitsALaptop(t *testing.T) {
	t.Parallel()
	out, err := runFootprint(t, "json", "--lab", "default")
	if err != nil {
		t.Fatal(err)
	}
	var fp stack.Footprint
	if err := json.Unmarshal([]byte(out), &fp); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if fp.Profile != "lite" || len(fp.Stacks) != 2 || fp.Stacks[0].Stack != "monitoring" || fp.Stacks[1].Stack != "demo-shop" {
		t.Fatalf("footprint of %s for stacks %+v, want lite for monitoring and demo-shop", fp.Profile, fp.Stacks)
	}
	var sum stack.Resources
	for _, s := range fp.Stacks {
		if s.Pods == 0 || s.MemoryRequestsBytes == 0 || s.CPURequestsMilli == 0 {
			t.Errorf("stack %s requests nothing: %+v", s.Stack, s)
		}
		sum.MemoryRequestsBytes += s.MemoryRequestsBytes
		sum.CPURequestsMilli += s.CPURequestsMilli
	}
	if sum.MemoryRequestsBytes != fp.Total.MemoryRequestsBytes || sum.CPURequestsMilli != fp.Total.CPURequestsMilli {
		t.Errorf("total %+v is not the sum of the stacks %+v", fp.Total.Resources, sum)
	}
	if limit := int64(1536) << 20; fp.Total.MemoryRequestsBytes > limit {
		t.Errorf("the default lab requests %s of memory, above the 1.5 GiB budget", stack.FormatMemory(fp.Total.MemoryRequestsBytes))
	}
}

func TestFullProfileRequestsMoreThanLite(t *testing.T) {
	t.Parallel()
	var totals [2]int64
	for i, profile := range []string{"lite", "full"} {
		out, err := runFootprint(t, "json", "--lab", "default", "--profile", profile)
		if err != nil {
			t.Fatal(err)
		}
		var fp stack.Footprint
		if err := json.Unmarshal([]byte(out), &fp); err != nil {
			t.Fatal(err)
		}
		totals[i] = fp.Total.MemoryRequestsBytes
	}
	if totals[1] <= totals[0] {
		t.Errorf("full requests %d bytes, lite %d: the profiles do not size the stacks", totals[1], totals[0])
	}
}

func TestBadProfileIsInvalid(t *testing.T) {
	t.Parallel()
	_, err := runFootprint(t, "table", "--profile", "huge")
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("err = %v, want invalid input (exit 2)", err)
	}
}

func TestTableGolden(t *testing.T) {
	t.Parallel()
	fp := &stack.Footprint{Profile: "lite", Nodes: 2, Stacks: []stack.StackFootprint{
		{Stack: "monitoring", Pods: 6, Resources: stack.Resources{CPURequestsMilli: 190, CPULimitsMilli: 1900, MemoryRequestsBytes: 448 << 20, MemoryLimitsBytes: 1056 << 20}},
		{Stack: "demo-shop", Pods: 4, Resources: stack.Resources{CPURequestsMilli: 40, CPULimitsMilli: 800, MemoryRequestsBytes: 112 << 20, MemoryLimitsBytes: 320 << 20, NoMemoryLimit: 1}},
	}, Total: stack.StackFootprint{Stack: "total", Pods: 10, Resources: stack.Resources{CPURequestsMilli: 230, CPULimitsMilli: 2700, MemoryRequestsBytes: 560 << 20, MemoryLimitsBytes: 1376 << 20, NoMemoryLimit: 1}}}
	ios, _, out, _ := ui.Test()
	if err := ios.Printer(ui.FormatTable).Print(fp, func() ui.View { return Table(fp) }); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("table differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, out, want)
	}
}
