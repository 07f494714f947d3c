package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Alertmanager reads alerts from one Alertmanager through its v2 HTTP API (the API
// amtool uses). It is safe for concurrent use.
type Alertmanager struct {
	url  string
	http *http.Client
	// Describe names the server in errors (default: "Alertmanager at URL").
	Describe string
}

// NewAlertmanager returns a client of the Alertmanager at address (http://host:port;
// callers check addresses users give).
func NewAlertmanager(address string) *Alertmanager {
	return &Alertmanager{
		url:      strings.TrimSuffix(address, "/"),
		http:     &http.Client{Timeout: 30 * time.Second},
		Describe: "Alertmanager at " + address,
	}
}

// Alertmanager's states of an alert it holds. An alert it does not hold is not firing
// (Prometheus sends only firing alerts, and Alertmanager forgets resolved ones).
const (
	AMActive      = "active"      // firing and notified
	AMSuppressed  = "suppressed"  // firing, but silenced or inhibited
	AMUnprocessed = "unprocessed" // received, not yet routed
)

// AMAlert is one alert Alertmanager holds.
type AMAlert struct {
	Labels   map[string]string
	State    string // AMActive, AMSuppressed or AMUnprocessed
	StartsAt time.Time
	// SilencedBy and InhibitedBy name what suppresses the alert.
	SilencedBy  []string
	InhibitedBy []string
}

// Alerts lists the alerts named name that Alertmanager holds, silenced and inhibited
// ones included.
func (a *Alertmanager) Alerts(ctx context.Context, name string) ([]AMAlert, error) {
	q := url.Values{}
	q.Set("filter", "alertname="+strconv.Quote(name))
	q.Set("silenced", "true")
	q.Set("inhibited", "true")
	q.Set("active", "true")
	q.Set("unprocessed", "true")
	var body []struct {
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
		Status   struct {
			State       string   `json:"state"`
			SilencedBy  []string `json:"silencedBy"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := a.get(ctx, "/api/v2/alerts?"+q.Encode(), &body); err != nil {
		return nil, err
	}
	out := make([]AMAlert, len(body))
	for i, b := range body {
		out[i] = AMAlert{Labels: b.Labels, State: b.Status.State, StartsAt: b.StartsAt,
			SilencedBy: b.Status.SilencedBy, InhibitedBy: b.Status.InhibitedBy}
	}
	return out, nil
}

// get decodes the JSON answer of a GET; an answer that is not 200 with JSON means the
// server is not an Alertmanager's API (UnreachableError), except a 400, which is
// Alertmanager refusing the request (QueryError).
func (a *Alertmanager) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{Server: a.Describe, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return &UnreachableError{Server: a.Describe, Err: err}
	}
	switch {
	case resp.StatusCode == http.StatusBadRequest:
		return &QueryError{Type: "bad_request", Msg: strings.TrimSpace(string(data))}
	case resp.StatusCode != http.StatusOK:
		return &UnreachableError{Server: a.Describe, Err: fmt.Errorf("HTTP %s from %s", resp.Status, path)}
	}
	if err := json.Unmarshal(data, into); err != nil {
		return &UnreachableError{Server: a.Describe, Err: fmt.Errorf("not Alertmanager's API: %w", err)}
	}
	return nil
}
