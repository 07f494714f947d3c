package spec

import "time"

// KindChecks is the kind of a file of grading checks.
const KindChecks = "Checks"

// Check types: the field of a Check that holds its body.
const (
	CheckPromQL   = "promql"
	CheckAlert    = "alert"
	CheckResource = "resource"
	CheckHTTP     = "http"
	CheckRollout  = "rollout"
)

// Severities of a check: whether its failure fails the run (error) or is only reported.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Where an alert check reads the alert's state.
const (
	AlertSourcePrometheus   = "prometheus"
	AlertSourceAlertmanager = "alertmanager"
)

// Alert states a check can wait for, as Prometheus names them.
const (
	AlertFiring   = "firing"
	AlertPending  = "pending"
	AlertInactive = "inactive"
	// AlertSuppressed is Alertmanager's: firing, but silenced or inhibited.
	AlertSuppressed = "suppressed"
)

// Defaults of the common check fields.
const (
	DefaultCheckTimeout  = 30 * time.Second
	DefaultCheckInterval = 2 * time.Second
)

// Checks is a file of grading checks: `lab grade` evaluates it, and scenarios and gamedays
// embed []Check for their steps and steady states.
type Checks struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   Metadata   `json:"metadata"`
	Spec       ChecksSpec `json:"spec"`
}

// ChecksSpec holds the checks, in the order reports list them.
type ChecksSpec struct {
	Checks []Check `json:"checks"`
}

// Check asks one question: does this hold, within this time? Exactly one of PromQL,
// Alert, Resource, HTTP and Rollout is set.
type Check struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	// Points are awarded when the check passes; the score is passed points over all.
	Points int `json:"points,omitempty"`
	// Timeout bounds the polling: the check passes as soon as its condition held
	// Consecutive times in a row, one evaluation every Interval, or ends when time is up.
	Timeout     time.Duration `json:"timeout,omitempty"`
	Interval    time.Duration `json:"interval,omitempty"`
	Consecutive int           `json:"consecutive,omitempty"`
	// Hints are shown one at a time, in order, to someone whose check failed.
	Hints []string `json:"hints,omitempty"`
	// Severity error makes a failure fail the run; warning and info are only reported.
	Severity string `json:"severity,omitempty"`

	PromQL   *PromQLCheck   `json:"promql,omitempty"`
	Alert    *AlertCheck    `json:"alert,omitempty"`
	Resource *ResourceCheck `json:"resource,omitempty"`
	HTTP     *HTTPCheck     `json:"http,omitempty"`
	Rollout  *RolloutCheck  `json:"rollout,omitempty"`
}

// PromQLCheck compares the result of a PromQL expression: every series must satisfy
// Op Value, or the result must be Empty or NonEmpty.
type PromQLCheck struct {
	Query string   `json:"query"`
	Op    string   `json:"op,omitempty"`
	Value *float64 `json:"value,omitempty"`
	// Empty passes on a result with no series. A misspelt metric also gives none, so
	// prefer op/value on a count() when the series should exist.
	Empty    bool `json:"empty,omitempty"`
	NonEmpty bool `json:"nonempty,omitempty"`
	// For makes the condition hold over the whole window before now (a range query),
	// as an alerting rule's for does.
	For time.Duration `json:"for,omitempty"`
}

// AlertCheck waits for an alerting rule's alert to be in a state, as Prometheus sees
// it (the rule's alerts) or as Alertmanager does (the alerts it received).
type AlertCheck struct {
	Name  string `json:"name"`
	State string `json:"state,omitempty"`
	// Source is where the state is read: prometheus (the default) or alertmanager.
	Source string `json:"source,omitempty"`
	// Labels narrow the alerts of the rule to those carrying all of them.
	Labels map[string]string `json:"labels,omitempty"`
}

// ResourceCheck looks at Kubernetes objects: one object by Name (it exists, matches the
// partial object Match, has the status Condition), or Count objects by Selector that
// match Match and Condition.
type ResourceCheck struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Namespace of namespaced objects; empty means "default" for one object by name and
	// every namespace for a count.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Selector is a label selector, as kubectl -l takes it: app=shop,tier!=db.
	Selector  string           `json:"selector,omitempty"`
	Match     map[string]any   `json:"match,omitempty"`
	Condition *StatusCondition `json:"condition,omitempty"`
	Count     *Comparison      `json:"count,omitempty"`
}

// StatusCondition is an entry of an object's status.conditions.
type StatusCondition struct {
	Type string `json:"type"`
	// Status defaults to "True".
	Status string `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Comparison is a condition on a number: Op is one of ==, !=, >, >=, <, <=.
type Comparison struct {
	Op    string   `json:"op"`
	Value *float64 `json:"value"`
}

// HTTPCheck sends a request to a Service through the API server's service proxy.
type HTTPCheck struct {
	Namespace string `json:"namespace,omitempty"`
	Service   string `json:"service"`
	// Port is the service port's number or name; empty means the service's only port.
	Port   string `json:"port,omitempty"`
	Path   string `json:"path,omitempty"`
	Method string `json:"method,omitempty"`
	// Status is the expected status code (default 200).
	Status int `json:"status,omitempty"`
	// Body is a regular expression the response body must match.
	Body string `json:"body,omitempty"`
	// MaxLatency bounds the time to the complete response.
	MaxLatency time.Duration `json:"maxLatency,omitempty"`
}

// RolloutCheck looks at an Argo Rollouts Rollout as its controller reports it: the
// rollout's phase, its canary step, whether it was aborted or promoted, and the phase
// of its newest analysis run. Every condition given must hold.
type RolloutCheck struct {
	// Namespace defaults to the scenario's, else "default".
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Phase is Healthy, Progressing, Paused or Degraded.
	Phase string `json:"phase,omitempty"`
	// Step compares the canary's current step index (0-based; the number of steps once
	// every step is done).
	Step *Comparison `json:"step,omitempty"`
	// Analysis is the phase of the newest analysis run: Running, Successful, Failed,
	// Inconclusive or Error.
	Analysis string `json:"analysis,omitempty"`
	// Aborted: true while the rollout is aborted (the stable version serves).
	Aborted *bool `json:"aborted,omitempty"`
	// Promoted: true once the version being rolled out is the stable one.
	Promoted *bool `json:"promoted,omitempty"`
}

// Rollout phases and analysis phases a rollout check accepts.
var (
	RolloutPhases  = []string{"Healthy", "Progressing", "Paused", "Degraded"}
	AnalysisPhases = []string{"Running", "Successful", "Failed", "Inconclusive", "Error"}
)

// Type is the check's type name (promql, alert, resource, http, rollout), or "" when it has
// none or more than one.
func (c *Check) Type() string {
	types := c.types()
	if len(types) != 1 {
		return ""
	}
	return types[0]
}

func (c *Check) types() []string {
	var types []string
	for _, t := range []struct {
		name string
		set  bool
	}{
		{CheckPromQL, c.PromQL != nil}, {CheckAlert, c.Alert != nil},
		{CheckResource, c.Resource != nil}, {CheckHTTP, c.HTTP != nil},
		{CheckRollout, c.Rollout != nil},
	} {
		if t.set {
			types = append(types, t.name)
		}
	}
	return types
}

// Default fills what a check may leave out.
func (c *Check) Default() {
	if c.Points == 0 {
		c.Points = 1
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultCheckTimeout
	}
	if c.Interval == 0 {
		c.Interval = DefaultCheckInterval
		if c.Timeout > 0 { // a negative timeout is the timeout's problem alone
			c.Interval = min(DefaultCheckInterval, c.Timeout)
		}
	}
	if c.Consecutive == 0 {
		c.Consecutive = 1
	}
	if c.Severity == "" {
		c.Severity = SeverityError
	}
	c.defaultBody()
}

func (c *Check) defaultBody() {
	switch {
	case c.Alert != nil:
		if c.Alert.State == "" {
			c.Alert.State = AlertFiring
		}
		if c.Alert.Source == "" {
			c.Alert.Source = AlertSourcePrometheus
		}
	case c.Resource != nil && c.Resource.Condition != nil && c.Resource.Condition.Status == "":
		c.Resource.Condition.Status = "True"
	case c.HTTP != nil:
		c.HTTP.defaults()
	case c.Rollout != nil && c.Rollout.Namespace == "":
		c.Rollout.Namespace = "default"
	}
}

func (h *HTTPCheck) defaults() {
	if h.Namespace == "" {
		h.Namespace = "default"
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Method == "" {
		h.Method = "GET"
	}
	if h.Status == 0 {
		h.Status = 200
	}
}
