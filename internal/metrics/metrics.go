// Package metrics is lab's client of the Prometheus HTTP API and of Alertmanager's. It is
// the only package that imports client_golang's API client; callers get plain values
// (samples, series, alerting rules, alerts) and errors that say whether the server could
// be reached at all.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Client queries one Prometheus server. It is safe for concurrent use.
type Client struct {
	url string
	api v1.API
	// Describe names the server in errors (default: "Prometheus at URL"), for a URL
	// that means nothing to the user, such as a port-forward's.
	Describe string
}

// New returns a client of the Prometheus at address (http://host:port). The transport
// keeps enough idle connections for a grader's workers to reuse them instead of opening
// one per query.
func New(address string) (*Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	c, err := api.NewClient(api.Config{Address: address, RoundTripper: transport})
	if err != nil {
		return nil, fmt.Errorf("prometheus URL %q: %w", address, err)
	}
	return &Client{api: v1.NewAPI(c), Describe: "Prometheus at " + address}, nil
}

// Sample is one element of an instant query's result. A scalar result is one Sample
// without labels.
type Sample struct {
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// Series is one series of a range query's result: its values at each step it had one.
type Series struct {
	Labels map[string]string `json:"labels,omitempty"`
	Points []Point           `json:"points"`
}

// Point is a value at a time.
type Point struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// Query evaluates expr at time at. A NaN scalar (scalar() of an empty vector) comes back
// as no samples, so that it reads as no data.
func (c *Client) Query(ctx context.Context, expr string, at time.Time) ([]Sample, error) {
	value, _, _, err := c.api.Query(ctx, expr, at)
	if err != nil {
		return nil, c.wrap(err)
	}
	switch v := value.(type) {
	case model.Vector:
		out := make([]Sample, len(v))
		for i, s := range v {
			out[i] = Sample{Labels: labelMap(s.Metric), Value: float64(s.Value)}
		}
		return out, nil
	case *model.Scalar:
		if math.IsNaN(float64(v.Value)) {
			return nil, nil
		}
		return []Sample{{Value: float64(v.Value)}}, nil
	default:
		return nil, fmt.Errorf("the query returned a %s; a check needs an instant vector or a scalar", value.Type())
	}
}

// QueryRange evaluates expr at every step from start to end.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	value, _, _, err := c.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, c.wrap(err)
	}
	matrix, ok := value.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("the range query returned a %s, not a matrix", value.Type())
	}
	out := make([]Series, len(matrix))
	for i, s := range matrix {
		points := make([]Point, len(s.Values))
		for j, p := range s.Values {
			points[j] = Point{Time: p.Timestamp.Time(), Value: float64(p.Value)}
		}
		out[i] = Series{Labels: labelMap(s.Metric), Points: points}
	}
	return out, nil
}

// AlertingRule is an alerting rule Prometheus evaluates, with its active alerts.
type AlertingRule struct {
	Name      string
	Group     string
	State     string // inactive, pending or firing
	Health    string // ok, unknown or err
	LastError string
	Alerts    []Alert
}

// Alert is an active (pending or firing) alert of a rule.
type Alert struct {
	Labels   map[string]string
	State    string
	ActiveAt time.Time
	Value    string
}

// AlertingRules lists the loaded alerting rules named name (several groups may have one).
func (c *Client) AlertingRules(ctx context.Context, name string) ([]AlertingRule, error) {
	res, err := c.api.Rules(ctx, nil)
	if err != nil {
		return nil, c.wrap(err)
	}
	var out []AlertingRule
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			ar, ok := r.(v1.AlertingRule)
			if !ok || ar.Name != name {
				continue
			}
			out = append(out, alertingRule(g.Name, ar))
		}
	}
	return out, nil
}

func alertingRule(group string, r v1.AlertingRule) AlertingRule {
	out := AlertingRule{Name: r.Name, Group: group, State: r.State, Health: string(r.Health), LastError: r.LastError}
	for _, a := range r.Alerts {
		out.Alerts = append(out.Alerts, Alert{Labels: labelSet(a.Labels), State: string(a.State), ActiveAt: a.ActiveAt, Value: a.Value})
	}
	return out
}

// UnreachableError is a Prometheus that did not answer: refused, timed out, or
// answered with something that is not its API.
type UnreachableError struct {
	// Server is the client's Describe.
	Server string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s is unreachable: %v", e.Server, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// NotPrometheusError is a server that answered, but not as Prometheus's HTTP API: a
// 404 from a URL with a wrong path, an HTML page, a proxy's error. It is not called
// unreachable: something answered, and what it said is the clue.
type NotPrometheusError struct {
	// Server is the client's Describe.
	Server string
	// Answer is what came back: "client error: 404", or why the body is not the API's.
	Answer string
	// Body starts the response body, when there was one.
	Body string
}

func (e *NotPrometheusError) Error() string {
	msg := fmt.Sprintf("%s answered, but not as Prometheus's HTTP API (%s)", e.Server, e.Answer)
	if body := strings.Join(strings.Fields(e.Body), " "); body != "" {
		if len(body) > 80 {
			body = body[:77] + "..."
		}
		msg += fmt.Sprintf(": %q", body)
	}
	return msg + "; give the server's root URL, such as http://localhost:9090, with nothing after the port"
}

// QueryError is an answer from Prometheus refusing or failing the query.
type QueryError struct {
	Type string // bad_data, execution, timeout, ...
	Msg  string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("Prometheus rejected the query (%s): %s", e.Type, e.Msg)
}

// wrap sorts an API client error into QueryError (Prometheus answered), a
// NotPrometheusError (something else answered) or UnreachableError (nothing did);
// context errors pass through.
func (c *Client) wrap(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Type {
		case v1.ErrBadData, v1.ErrExec, v1.ErrTimeout, v1.ErrCanceled:
			return &QueryError{Type: string(apiErr.Type), Msg: apiErr.Msg}
		case v1.ErrClient, v1.ErrServer, v1.ErrBadResponse:
			return &NotPrometheusError{Server: c.Describe, Answer: apiErr.Msg, Body: apiErr.Detail}
		}
		return &UnreachableError{Server: c.Describe, Err: errors.New(apiErr.Msg)}
	}
	// Anything else is the transport: refused, reset, timed out, not Prometheus's API.
	return &UnreachableError{Server: c.Describe, Err: err}
}

func labelMap(m model.Metric) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

func labelSet(m model.LabelSet) map[string]string {
	return labelMap(model.Metric(m))
}

// FormatSeries writes labels the way Prometheus shows a series: name{a="1", b="2"},
// labels sorted; "{}" for none.
func FormatSeries(labels map[string]string) string {
	name := labels["__name__"]
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if k == "__name__" {
			continue
		}
		parts = append(parts, k+"="+strconv.Quote(labels[k]))
	}
	if name != "" && len(parts) == 0 {
		return name
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}
