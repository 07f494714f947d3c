package charts_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Annotations struct {
		List []struct {
			Name   string `json:"name"`
			Target struct {
				Type string   `json:"type"`
				Tags []string `json:"tags"`
			} `json:"target"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query struct {
				Query string `json:"query"`
			} `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Options map[string]any `json:"options"`
}

// promql is Prometheus' own PromQL parser (the library of the Prometheus 3 series;
// the dashboards use nothing newer than Prometheus 2.53 understands).
var promql = parser.NewParser(parser.Options{})

// grafanaVars stand in for Grafana's template variables so the queries parse as the
// PromQL Prometheus will receive.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$namespace", "demo-shop", "$app", ".*")

// TestDashboards: the provisioned dashboards ConfigMap holds the three dashboards,
// each valid JSON with a unique uid, every query on the provisioned Prometheus
// datasource and valid PromQL (Prometheus' own parser); the chaos dashboard shows
// Grafana annotations tagged "chaos", which is how lab marks its fault injections.
func TestDashboards(t *testing.T) {
	t.Parallel()
	r := render(t, "monitoring", "lite", "monitoring", nil)
	cm := convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "grafana-dashboards"))
	want := []string{"chaos-events.json", "cluster-overview.json", "workload-golden-signals.json"}
	var got []string
	for k := range cm.Data {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("dashboards %v, want %v", got, want)
	}

	// The datasource uid every panel refers to is the one provisioned.
	ds := convert[corev1.ConfigMap](t, r.find(t, "ConfigMap", "grafana-datasources"))
	var provisioned struct {
		Datasources []struct {
			UID, Type, URL string
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(ds.Data["datasources.yaml"]), &provisioned); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(provisioned.Datasources, func(d struct{ UID, Type, URL string }) bool {
		return d.UID == "prometheus" && d.Type == "prometheus" && d.URL == "http://prometheus.monitoring.svc:9090"
	}) {
		t.Fatalf("no Prometheus datasource with uid prometheus at the prometheus Service: %+v", provisioned.Datasources)
	}

	uids := map[string]string{}
	for _, file := range want {
		t.Run(file, func(t *testing.T) {
			var d dashboard
			if err := json.Unmarshal([]byte(cm.Data[file]), &d); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if d.UID == "" || d.Title == "" {
				t.Fatalf("uid %q, title %q: both are required", d.UID, d.Title)
			}
			if other, dup := uids[d.UID]; dup {
				t.Fatalf("uid %s used by %s too", d.UID, other)
			}
			uids[d.UID] = file
			queries := 0
			for _, p := range d.Panels {
				for _, target := range p.Targets {
					queries++
					if p.Datasource == nil || p.Datasource.UID != "prometheus" {
						t.Errorf("panel %q: datasource %+v, want uid prometheus", p.Title, p.Datasource)
					}
					if _, err := promql.ParseExpr(grafanaVars.Replace(target.Expr)); err != nil {
						t.Errorf("panel %q: %q: %v", p.Title, target.Expr, err)
					}
				}
			}
			for _, v := range d.Templating.List {
				if q := v.Query.Query; strings.HasPrefix(q, "label_values(") {
					// label_values(<selector>, <label>) is Grafana's; its selector is PromQL.
					inner := strings.TrimSuffix(strings.TrimPrefix(q, "label_values("), ")")
					sel := inner[:strings.LastIndex(inner, ",")]
					if _, err := promql.ParseExpr(grafanaVars.Replace(sel)); err != nil {
						t.Errorf("variable %s: %q: %v", v.Name, q, err)
					}
				}
			}
			if queries == 0 {
				t.Error("no queries")
			}
			t.Logf("%s (%s): %d panels, %d queries", d.Title, d.UID, len(d.Panels), queries)
		})
	}

	var chaos dashboard
	if err := json.Unmarshal([]byte(cm.Data["chaos-events.json"]), &chaos); err != nil {
		t.Fatal(err)
	}
	tagged := func(tags []string) bool { return slices.Contains(tags, "chaos") }
	if !slices.ContainsFunc(chaos.Annotations.List, func(a struct {
		Name   string `json:"name"`
		Target struct {
			Type string   `json:"type"`
			Tags []string `json:"tags"`
		} `json:"target"`
	}) bool {
		return a.Target.Type == "tags" && tagged(a.Target.Tags)
	}) {
		t.Error("the chaos dashboard does not show annotations tagged chaos")
	}
	if !slices.ContainsFunc(chaos.Panels, func(p panel) bool {
		return p.Type == "annolist" && fmt.Sprint(p.Options["tags"]) == "[chaos]"
	}) {
		t.Error("the chaos dashboard has no annotation list of chaos events")
	}
}

// TestDashboardQueriesCanFail proves the PromQL check above rejects a broken query.
func TestDashboardQueriesCanFail(t *testing.T) {
	t.Parallel()
	if _, err := promql.ParseExpr(grafanaVars.Replace(`sum by (app (rate(http_requests_total[$__rate_interval]))`)); err == nil {
		t.Fatal("a query with unbalanced parentheses parsed")
	}
}
