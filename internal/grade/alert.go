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
	if a.Source == spec.AlertSourceAlertmanager {
		return t.alertmanagerProbe(a)
	}
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

// alertmanagerProbe reads the alert's state from the alerts Alertmanager holds. Unlike
// Prometheus, Alertmanager knows no rules: an alert it does not hold is inactive, not
// unknown, and there is no pending.
func (t *Targets) alertmanagerProbe(a *spec.AlertCheck) probe {
	ev := Evidence{Query: describeAlert(a), Expected: a.State}
	return func(ctx context.Context) observation {
		client, err := t.alertmanager()
		if err != nil {
			return unavailable(ev, err)
		}
		alerts, err := client.Alerts(ctx, a.Name)
		if err != nil {
			return errored(ev, "no answer", err)
		}
		state, since, why := alertmanagerState(alerts, a.Labels)
		ev.Actual = state
		if !since.IsZero() {
			ev.Actual += fmt.Sprintf(" (since %s ago)", time.Since(since).Round(time.Second))
		}
		if why != "" {
			ev.Actual += "; " + why
		}
		return verdict(state == a.State, ev)
	}
}

// alertmanagerState is firing when an alert carrying the labels is active (or not yet
// routed), else suppressed when one is silenced or inhibited, else inactive; with when
// the earliest such alert started, and what suppresses it.
func alertmanagerState(alerts []metrics.AMAlert, labels map[string]string) (state string, since time.Time, why string) {
	state = spec.AlertInactive
	for _, al := range alerts {
		if !hasLabels(al.Labels, labels) {
			continue
		}
		s := spec.AlertFiring
		if al.State == metrics.AMSuppressed {
			s = spec.AlertSuppressed
		}
		switch {
		case alertRank(s) > alertRank(state):
			state, since, why = s, al.StartsAt, suppressedBy(al)
		case s == state && al.StartsAt.Before(since):
			since = al.StartsAt
		}
	}
	return state, since, why
}

func suppressedBy(al metrics.AMAlert) string {
	switch {
	case len(al.SilencedBy) > 0:
		return "silenced by " + strings.Join(al.SilencedBy, ", ")
	case len(al.InhibitedBy) > 0:
		return "inhibited by " + strings.Join(al.InhibitedBy, ", ")
	}
	return ""
}

// alertRank orders states from inactive to firing. Pending (Prometheus) and suppressed
// (Alertmanager) share a rank: one source never gives both.
func alertRank(state string) int {
	switch state {
	case spec.AlertFiring:
		return 2
	case spec.AlertPending, spec.AlertSuppressed:
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

// describeAlert is the alert as evidence: alert CheckoutErrorRate{severity="page"},
// with " in Alertmanager" when that is where it is read.
func describeAlert(a *spec.AlertCheck) string {
	s := "alert " + a.Name
	where := ""
	if a.Source == spec.AlertSourceAlertmanager {
		where = " in Alertmanager"
	}
	if len(a.Labels) == 0 {
		return s + where
	}
	parts := make([]string, 0, len(a.Labels))
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		parts = append(parts, k+"="+strconv.Quote(a.Labels[k]))
	}
	return s + "{" + strings.Join(parts, ", ") + "}" + where
}
