package grade

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
)

func (t *Targets) alertProbe(a *spec.AlertCheck) probe {
	ev := Evidence{Query: describeAlert(a), Expected: a.State}
	return func(ctx context.Context) observation {
		client, err := t.prometheus()
		if err != nil {
			return unavailable(ev, err)
		}
		rules, err := client.AlertingRules(ctx, a.Name)
		if err != nil {
			return errored(ev, "no answer", err)
		}
		if len(rules) == 0 {
			// Inactive is a state of a rule that exists: without the rule, nothing is known.
			return errored(ev, "no such rule", fmt.Errorf("Prometheus has no alerting rule named %q loaded", a.Name))
		}
		for _, r := range rules {
			if r.Health == "err" {
				return errored(ev, "rule fails", fmt.Errorf("alerting rule %q (group %s) fails to evaluate: %s", r.Name, r.Group, r.LastError))
			}
		}
		state, since := alertState(rules, a.Labels)
		ev.Actual = state
		if !since.IsZero() {
			ev.Actual += fmt.Sprintf(" (active for %s)", time.Since(since).Round(time.Second))
		}
		return verdict(state == a.State, ev)
	}
}

// alertState is the most advanced state of the rules' alerts that carry the labels:
// firing, else pending, else inactive; with when the earliest such alert became active.
func alertState(rules []metrics.AlertingRule, labels map[string]string) (string, time.Time) {
	state, since := spec.AlertInactive, time.Time{}
	for _, r := range rules {
		for _, alert := range r.Alerts {
			if !hasLabels(alert.Labels, labels) {
				continue
			}
			switch rank, current := alertRank(alert.State), alertRank(state); {
			case rank > current:
				state, since = alert.State, alert.ActiveAt
			case rank == current && alert.ActiveAt.Before(since):
				since = alert.ActiveAt
			}
		}
	}
	return state, since
}

func alertRank(state string) int {
	switch state {
	case spec.AlertFiring:
		return 2
	case spec.AlertPending:
		return 1
	}
	return 0
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// describeAlert is the alert as evidence: alert CheckoutErrorRate{severity="page"}.
func describeAlert(a *spec.AlertCheck) string {
	s := "alert " + a.Name
	if len(a.Labels) == 0 {
		return s
	}
	parts := make([]string, 0, len(a.Labels))
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		parts = append(parts, k+"="+strconv.Quote(a.Labels[k]))
	}
	return s + "{" + strings.Join(parts, ", ") + "}"
}
