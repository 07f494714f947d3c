package charts_test

import (
	"fmt"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestLintStrict is `helm lint --strict -f profiles/<profile>.yaml` on every chart
// directory, through the Helm SDK's lint action: no error and no warning (strict turns
// warnings into failures) in either profile. Lint also validates the values against
// values.schema.json and parses every rendered document.
func TestLintStrict(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		for _, profile := range profilesUnderTest {
			t.Run(name+"/"+profile, func(t *testing.T) {
				t.Parallel()
				vals, err := Profile(name, profile)
				if err != nil {
					t.Fatal(err)
				}
				lint := action.NewLint()
				lint.Strict = true
				lint.Namespace = name
				lint.KubeVersion = kubeVersion
				res := lint.Run([]string{name}, vals)
				if res.TotalChartsLinted != 1 {
					t.Fatalf("linted %d charts, want 1 (errors: %v)", res.TotalChartsLinted, res.Errors)
				}
				for _, msg := range res.Messages {
					if msg.Severity > support.InfoSev {
						t.Errorf("%s", msg)
					} else {
						t.Logf("%s", msg)
					}
				}
				for _, err := range res.Errors {
					t.Errorf("lint: %v", err)
				}
				if action.HasWarningsOrErrors(res) && !t.Failed() {
					t.Error("lint reports warnings or errors")
				}
			})
		}
	}
}

// TestLintCatchesBrokenChart proves the lint check above can fail: a chart whose
// values break the schema is reported, so a clean result means something.
func TestLintCatchesBrokenChart(t *testing.T) {
	t.Parallel()
	lint := action.NewLint()
	lint.Strict = true
	lint.Namespace = "monitoring"
	lint.KubeVersion = kubeVersion
	res := lint.Run([]string{"monitoring"}, values("prometheus.replicas", "two"))
	if len(res.Errors) == 0 {
		t.Fatalf("lint accepted prometheus.replicas=two; messages: %v", fmt.Sprint(res.Messages))
	}
}
