package grade

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cloudnativelab/lab/internal/metrics"
	"github.com/cloudnativelab/lab/internal/spec"
)

// maxListed bounds the series or objects an evidence line names; the rest are counted.
const maxListed = 5

// compare applies a comparison operator.
func compare(v float64, op string, want float64) bool {
	switch op {
	case "==":
		return v == want
	case "!=":
		return v != want
	case ">":
		return v > want
	case ">=":
		return v >= want
	case "<":
		return v < want
	case "<=":
		return v <= want
	}
	return false
}

func promqlExpected(q *spec.PromQLCheck) string {
	var s string
	switch {
	case q.Empty:
		s = "no series"
	case q.NonEmpty:
		s = "at least one series"
	default:
		s = "every series " + spec.Comparison{Op: q.Op, Value: q.Value}.String()
	}
	if q.For > 0 {
		s += " for " + formatWindow(q.For)
	}
	return s
}

func (t *Targets) promqlProbe(q *spec.PromQLCheck) probe {
	ev := Evidence{Query: q.Query, Expected: promqlExpected(q)}
	return func(ctx context.Context) observation {
		client, err := t.prometheus()
		if err != nil {
			return unavailable(ev, err)
		}
		if q.For > 0 {
			return evaluateWindow(ctx, client, q, ev)
		}
		return evaluateInstant(ctx, client, q, ev)
	}
}

// evaluateInstant checks the query's value now. With op and value, no data is an error:
// there is nothing to compare, and missing data never counts as a pass.
func evaluateInstant(ctx context.Context, client *metrics.Client, q *spec.PromQLCheck, ev Evidence) observation {
	samples, err := client.Query(ctx, q.Query, time.Now())
	if err != nil {
		return errored(ev, "no answer", err)
	}
	switch {
	case q.Empty:
		ev.Actual = describeSamples(samples)
		return verdict(len(samples) == 0, ev)
	case q.NonEmpty:
		ev.Actual = describeSamples(samples)
		return verdict(len(samples) > 0, ev)
	case len(samples) == 0:
		return errored(ev, "no data", fmt.Errorf("no data: the query returned no series, so there is nothing to compare"))
	}
	var bad []metrics.Sample
	for _, s := range samples {
		if !compare(s.Value, q.Op, *q.Value) {
			bad = append(bad, s)
		}
	}
	// The failing series come first: they are what the user has to look at.
	ev.Actual = describeSamples(append(slices.Clone(bad), without(samples, bad)...))
	for _, s := range bad[:min(len(bad), maxListed)] {
		ev.Diff = append(ev.Diff, fmt.Sprintf("%s = %s, expected %s", seriesName(s.Labels), spec.FormatNumber(s.Value), spec.Comparison{Op: q.Op, Value: q.Value}))
	}
	return verdict(len(bad) == 0, ev)
}

func verdict(ok bool, ev Evidence) observation {
	if ok {
		return passed(ev)
	}
	return failed(ev)
}

func without(all, drop []metrics.Sample) []metrics.Sample {
	var out []metrics.Sample
	for _, s := range all {
		if !slices.ContainsFunc(drop, func(d metrics.Sample) bool { return sameLabels(d.Labels, s.Labels) }) {
			out = append(out, s)
		}
	}
	return out
}

func sameLabels(a, b map[string]string) bool {
	return metrics.FormatSeries(a) == metrics.FormatSeries(b)
}

// describeSamples is "0.2" for one unlabelled value, else "3 series: a = 1, b = 2, ...".
func describeSamples(samples []metrics.Sample) string {
	switch {
	case len(samples) == 0:
		return "no series"
	case len(samples) == 1 && len(samples[0].Labels) == 0:
		return spec.FormatNumber(samples[0].Value)
	}
	parts := make([]string, 0, maxListed)
	for _, s := range samples[:min(len(samples), maxListed)] {
		parts = append(parts, seriesName(s.Labels)+" = "+spec.FormatNumber(s.Value))
	}
	if more := len(samples) - maxListed; more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	noun := "series"
	return fmt.Sprintf("%d %s: %s", len(samples), noun, strings.Join(parts, ", "))
}

func seriesName(labels map[string]string) string {
	if len(labels) == 0 {
		return "value"
	}
	return metrics.FormatSeries(labels)
}

// windowStep is the resolution of a for window: fine enough to catch a single bad
// scrape in a short window, at most a few hundred points in a long one.
func windowStep(window time.Duration) time.Duration {
	return max(time.Second, (window / 250).Round(time.Second))
}

// evaluateWindow checks that the condition held at every step of the window before now,
// with a range query. A step where no series had a value breaks the window like a value
// that fails the condition; a window without any data at all is an error.
func evaluateWindow(ctx context.Context, client *metrics.Client, q *spec.PromQLCheck, ev Evidence) observation {
	end := time.Now().Truncate(time.Second)
	start, step := end.Add(-q.For), windowStep(q.For)
	series, err := client.QueryRange(ctx, q.Query, start, end, step)
	if err != nil {
		return errored(ev, "no answer", err)
	}
	w := newWindow(start, step, int(q.For/step)+1, end)
	for _, s := range series {
		for _, p := range s.Points {
			w.add(p, s.Labels, q)
		}
	}
	switch {
	case q.Empty:
		ev.Actual = w.describeData()
		return verdict(w.dataSteps() == 0, ev)
	case w.dataSteps() == 0:
		if q.NonEmpty {
			ev.Actual = "no series in the window"
			return failed(ev)
		}
		return errored(ev, "no data", fmt.Errorf("no data in the last %s: the query returned no series, so there is nothing to compare", formatWindow(q.For)))
	}
	ev.Actual, ev.Diff = w.describeBreaks(q.NonEmpty)
	return verdict(len(ev.Diff) == 0, ev)
}

// window collects a range query's points by step.
type window struct {
	start, end time.Time
	step       time.Duration
	hasData    []bool
	broken     []string // per step: the first failing series and value, or ""
}

func newWindow(start time.Time, step time.Duration, steps int, end time.Time) *window {
	return &window{start: start, end: end, step: step, hasData: make([]bool, steps), broken: make([]string, steps)}
}

func (w *window) add(p metrics.Point, labels map[string]string, q *spec.PromQLCheck) {
	i := int(math.Round(float64(p.Time.Sub(w.start)) / float64(w.step)))
	if i < 0 || i >= len(w.hasData) {
		return
	}
	w.hasData[i] = true
	if q.Value != nil && !compare(p.Value, q.Op, *q.Value) && w.broken[i] == "" {
		w.broken[i] = seriesName(labels) + " = " + spec.FormatNumber(p.Value)
	}
}

func (w *window) dataSteps() int {
	n := 0
	for _, ok := range w.hasData {
		if ok {
			n++
		}
	}
	return n
}

func (w *window) describeData() string {
	if n := w.dataSteps(); n > 0 {
		return fmt.Sprintf("series at %d of %d evaluations in the window", n, len(w.hasData))
	}
	return "no series in the window"
}

// describeBreaks names the steps where the condition did not hold: values that failed
// it and steps without data, each as a time before now.
func (w *window) describeBreaks(presenceOnly bool) (string, []string) {
	var diff []string
	bad := 0
	for i := range w.hasData {
		reason := ""
		switch {
		case !w.hasData[i]:
			reason = "no data"
		case !presenceOnly && w.broken[i] != "":
			reason = w.broken[i]
		default:
			continue
		}
		bad++
		if len(diff) < maxListed {
			diff = append(diff, fmt.Sprintf("%s ago: %s", formatWindow(w.end.Sub(w.start.Add(time.Duration(i)*w.step))), reason))
		}
	}
	total := len(w.hasData)
	if bad == 0 {
		return fmt.Sprintf("held at all %d evaluations, every %s", total, formatWindow(w.step)), nil
	}
	if more := bad - len(diff); more > 0 {
		diff = append(diff, fmt.Sprintf("and %d more", more))
	}
	return fmt.Sprintf("broken at %d of %d evaluations, every %s over the window", bad, total, formatWindow(w.step)), diff
}

// formatWindow writes a duration without zero units: 1m, 90s -> 1m30s, 2h.
func formatWindow(d time.Duration) string {
	s := d.String()
	for _, zero := range []string{"h0m0s", "m0s"} {
		if strings.HasSuffix(s, zero) {
			return strings.TrimSuffix(s, zero) + zero[:1]
		}
	}
	return s
}
