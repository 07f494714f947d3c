package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cloudnativelab/lab/internal/errs"
)

// SimulatedOutcomeNote is why a simulated lab skips outcome gates: no container runs,
// so nothing could answer. The gate is reported skipped, never passed.
const SimulatedOutcomeNote = "outcome gate needs a real cluster (simulated lab)"

// Outcome is a stack's proof that it works: a PromQL query, sent to a Prometheus
// Service of the stack through the API server's service proxy, that must return at
// least one sample equal to 1 (for monitoring: up{job="prometheus"}, Prometheus
// answering and scraping its own target).
type Outcome struct {
	// Description completes "Checking <stack>: ...".
	Description string
	Service     string
	Port        int
	Query       string
}

// queryFunc sends a PromQL instant query and returns the raw response body.
type queryFunc func(ctx context.Context, query string) ([]byte, error)

// checkOutcome runs the stack's outcome gate as a step, or reports it skipped on a
// simulated lab.
func (in *Installer) checkOutcome(ctx context.Context, s Stack) error {
	if s.Outcome == nil {
		return nil
	}
	title := fmt.Sprintf("Checking %s: %s", s.Name, s.Outcome.Description)
	if in.opts.Simulated {
		in.opts.Events.Skip(title, SimulatedOutcomeNote)
		return nil
	}
	o := *s.Outcome
	query := func(ctx context.Context, q string) ([]byte, error) {
		return in.c.Typed.CoreV1().Services(s.Namespace).
			ProxyGet("http", o.Service, strconv.Itoa(o.Port), "/api/v1/query", map[string]string{"query": q}).DoRaw(ctx)
	}
	timeout := s.timeout()
	if in.opts.Timeout > 0 {
		timeout = in.opts.Timeout
	}
	return in.opts.Events.Step(ctx, title, func(ctx context.Context) error {
		return waitOutcome(ctx, o, query, in.opts.PollInterval, timeout, s.Name)
	})
}

// waitOutcome polls the query until it holds or the timeout passes, then says what the
// last answer was.
func waitOutcome(ctx context.Context, o Outcome, query queryFunc, every, timeout time.Duration, stack string) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, every, timeout, true, func(ctx context.Context) (bool, error) {
		body, err := query(ctx, o.Query)
		if err != nil {
			// A query cut off by the gate's own deadline says nothing about Prometheus:
			// keep the last complete answer, which is what the user needs to read.
			if ctx.Err() == nil || last == "" {
				last = err.Error()
			}
			return false, nil
		}
		ok, why := promHolds(body)
		last = why
		return ok, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errs.New(errs.Unavailable,
		fmt.Sprintf("stack %s: its pods are ready, but after %s the outcome gate still fails (%s): query %s: %s", stack, timeout, o.Description, o.Query, last),
		fmt.Sprintf("look at Prometheus itself: lab open %s, then Status > Targets", o.Service))
}

// promHolds reads a Prometheus /api/v1/query response: true when it is a success with
// at least one sample whose value is 1.
func promHolds(body []byte) (bool, string) {
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return false, "not a Prometheus answer: " + shorten(string(body), 120)
	}
	if r.Status != "success" {
		return false, "Prometheus answered " + r.Status + ": " + r.Error
	}
	if len(r.Data.Result) == 0 {
		return false, "no sample yet (the target has not been scraped)"
	}
	for _, s := range r.Data.Result {
		if v, ok := s.Value[1].(string); ok && v == "1" {
			return true, ""
		}
	}
	return false, "every sample is 0 (the target is down)"
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
