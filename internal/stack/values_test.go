package stack

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
)

// TestWithValuesMergesOverTheProfile: a lab's values reach the rendered charts (Grafana
// left out of monitoring), leave other stacks and the catalog itself unchanged, and a
// key the chart's schema does not know is bad input naming spec.values.<stack>.
func TestWithValuesMergesOverTheProfile(t *testing.T) {
	t.Parallel()
	cat := Default()
	images := func(c *Catalog) []string {
		res, err := c.Pull([]string{"monitoring", "demo-shop"}, ProfileLite, Source{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, img := range res.Images {
			names = append(names, img.Name)
		}
		return names
	}
	isGrafana := func(name string) bool { return strings.Contains(name, "grafana/grafana") }

	without := images(cat.WithValues(map[string]map[string]any{"monitoring": {"grafana": map[string]any{"enabled": false}}}))
	if slices.ContainsFunc(without, isGrafana) {
		t.Errorf("grafana.enabled=false still renders Grafana's image: %v", without)
	}
	if !slices.ContainsFunc(without, func(n string) bool { return strings.Contains(n, "prometheus/prometheus") }) {
		t.Errorf("the rest of monitoring is gone too: %v", without)
	}
	if !slices.ContainsFunc(images(cat), isGrafana) {
		t.Error("WithValues changed the catalog it was called on: Grafana is gone from the default catalog")
	}

	_, err := cat.WithValues(map[string]map[string]any{"monitoring": {"grafana": map[string]any{"enabeld": false}}}).
		Pull([]string{"monitoring"}, ProfileLite, Source{})
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid || !strings.Contains(err.Error(), "spec.values.monitoring") || !strings.Contains(err.Error(), "enabeld") {
		t.Fatalf("a misspelt value: err = %v, want invalid input naming spec.values.monitoring and the key", err)
	}
}
