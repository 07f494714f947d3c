package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// Limits of a check.
const (
	MaxCheckTimeout  = time.Hour
	MinCheckInterval = 100 * time.Millisecond
	MaxCheckPoints   = 1000
	MaxConsecutive   = 100
	// MaxForWindow bounds a promql check's for: a longer window is a range query over
	// more data than a lab's Prometheus keeps.
	MaxForWindow = 24 * time.Hour
)

// checkID is the form of a check id: it names the check in reports and JUnit test cases.
var checkID = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)

// Comparison operators, in the order messages list them.
var comparisonOps = []string{"==", "!=", ">", ">=", "<", "<="}

// validate records every problem of defaulted checks in src; path is where the list is
// (spec.checks in a Checks file, a step's checks in a scenario).
func validateChecks(src *Source, path string, checks []Check) {
	if len(checks) == 0 && !src.relatesToFailure(path) {
		src.Addf(path, "needs at least one check")
	}
	firstIndex := map[string]int{}
	for i := range checks {
		c := &checks[i]
		checkPath := indexPath(path, i)
		c.validate(src, checkPath)
		if j, dup := firstIndex[c.ID]; dup && c.ID != "" {
			src.Addf(checkPath+".id", "duplicate id %q (already at %s)", c.ID, lastSegment(indexPath(path, j)))
			continue
		}
		firstIndex[c.ID] = i
	}
}

func (c *Check) validate(src *Source, path string) {
	switch {
	case c.ID == "":
		src.Addf(path+".id", "is required: a short name such as api-up, shown in reports")
	case !checkID.MatchString(c.ID) || len(c.ID) > 63:
		src.Addf(path+".id", "must be lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters, got %q", c.ID)
	}
	if c.Points < 1 || c.Points > MaxCheckPoints {
		src.Addf(path+".points", "must be between 1 and %d, got %d", MaxCheckPoints, c.Points)
	}
	validateOneOf(src, path+".severity", c.Severity, SeverityError, SeverityWarning, SeverityInfo)
	for i, h := range c.Hints {
		if strings.TrimSpace(h) == "" {
			src.Addf(indexPath(path+".hints", i), "is empty")
		}
	}
	c.validateTiming(src, path)
	c.validateBody(src, path)
}

// validateTiming rejects timings that cannot work: a check that could never be
// evaluated the consecutive number of times its timeout allows.
func (c *Check) validateTiming(src *Source, path string) {
	timeoutOK := validatePositive(src, path+".timeout", c.Timeout, MaxCheckTimeout)
	intervalOK := validatePositive(src, path+".interval", c.Interval, MaxCheckTimeout)
	if intervalOK && c.Interval < MinCheckInterval {
		src.Addf(path+".interval", "must be at least %s, got %s", MinCheckInterval, c.Interval)
		intervalOK = false
	}
	if c.Consecutive < 1 || c.Consecutive > MaxConsecutive {
		src.Addf(path+".consecutive", "must be between 1 and %d, got %d", MaxConsecutive, c.Consecutive)
		return
	}
	if !timeoutOK || !intervalOK {
		return
	}
	if c.Interval > c.Timeout {
		src.Addf(path+".interval", "%s is longer than the timeout %s: the check could be evaluated only once; shorten interval or lengthen timeout", c.Interval, c.Timeout)
		return
	}
	if need := time.Duration(c.Consecutive-1) * c.Interval; need > c.Timeout {
		src.Addf(path+".consecutive", "%d evaluations %s apart take %s, longer than the timeout %s", c.Consecutive, c.Interval, need, c.Timeout)
	}
}

func validatePositive(src *Source, path string, d, limit time.Duration) bool {
	switch {
	case d <= 0:
		src.Addf(path, "must be a positive duration, got %s", d)
	case d > limit:
		src.Addf(path, "must be at most %s, got %s", limit, d)
	default:
		return true
	}
	return false
}

func (c *Check) validateBody(src *Source, path string) {
	types := c.types()
	switch {
	case len(types) == 0:
		src.Addf(path, "check %s needs exactly one of promql, alert, resource, http, rollout; it has none", describeID(c.ID))
		return
	case len(types) > 1:
		src.Addf(path+"."+types[1], "check %s needs exactly one of promql, alert, resource, http, rollout; it has %s", describeID(c.ID), strings.Join(types, " and "))
		return
	}
	switch {
	case c.PromQL != nil:
		c.PromQL.validate(src, path+".promql")
	case c.Alert != nil:
		c.Alert.validate(src, path+".alert")
	case c.Resource != nil:
		c.Resource.validate(src, path+".resource")
	case c.HTTP != nil:
		c.HTTP.validate(src, path+".http", c.Timeout)
	case c.Rollout != nil:
		c.Rollout.validate(src, path+".rollout")
	}
}

func (r *RolloutCheck) validate(src *Source, path string) {
	if strings.TrimSpace(r.Name) == "" {
		src.Addf(path+".name", "is required: the Rollout's name")
	}
	if r.Phase == "" && r.Step == nil && r.Analysis == "" && r.Aborted == nil && r.Promoted == nil {
		src.Addf(path, "needs a condition: phase, step, analysis, aborted or promoted")
	}
	if r.Phase != "" {
		validateOneOf(src, path+".phase", r.Phase, RolloutPhases...)
	}
	if r.Analysis != "" {
		validateOneOf(src, path+".analysis", r.Analysis, AnalysisPhases...)
	}
	if r.Step != nil {
		validateComparison(src, path+".step", r.Step.Op, r.Step.Value)
	}
}

func describeID(id string) string {
	if id == "" {
		return "(without id)"
	}
	return strconv.Quote(id)
}

func (p *PromQLCheck) validate(src *Source, path string) {
	if strings.TrimSpace(p.Query) == "" {
		src.Addf(path+".query", "is required: a PromQL expression")
	} else {
		validatePromQL(src, path+".query", p.Query)
	}
	conditions := 0
	if p.Op != "" || p.Value != nil {
		conditions++
		validateComparison(src, path, p.Op, p.Value)
	}
	for _, set := range []bool{p.Empty, p.NonEmpty} {
		if set {
			conditions++
		}
	}
	switch {
	case conditions == 0:
		src.Addf(path, "needs a condition: op and value (such as op: \">=\" and value: 1), or empty: true, or nonempty: true")
	case conditions > 1:
		src.Addf(path, "has more than one condition: give op and value, or empty: true, or nonempty: true")
	}
	if src.Has(path+".for") && (p.For <= 0 || p.For > MaxForWindow) {
		src.Addf(path+".for", "must be a positive duration up to %s, got %s", MaxForWindow, p.For)
	}
}

// validateComparison checks an op and value pair written at path (op and value are its
// fields).
func validateComparison(src *Source, path, op string, value *float64) {
	switch {
	case op == "":
		src.Addf(path+".op", "is required with value: one of %s", strings.Join(comparisonOps, ", "))
	default:
		validateOneOf(src, path+".op", op, comparisonOps...)
	}
	switch {
	case value == nil:
		src.Addf(path+".value", "is required with op: the number to compare with")
	case math.IsNaN(*value):
		src.Addf(path+".value", "must be a number, not NaN")
	}
}

func (a *AlertCheck) validate(src *Source, path string) {
	if strings.TrimSpace(a.Name) == "" {
		src.Addf(path+".name", "is required: the alert's name, as the alerting rule's alert field gives it")
	}
	if !validateOneOf(src, path+".source", a.Source, AlertSourcePrometheus, AlertSourceAlertmanager) {
		return
	}
	switch {
	case a.Source == AlertSourceAlertmanager && a.State == AlertPending:
		src.Addf(path+".state", "pending is a state only Prometheus knows: Alertmanager receives an alert once it fires; use source: prometheus, or firing, suppressed or inactive")
	case a.Source == AlertSourceAlertmanager:
		validateOneOf(src, path+".state", a.State, AlertFiring, AlertSuppressed, AlertInactive)
	case a.State == AlertSuppressed:
		src.Addf(path+".state", "suppressed (silenced or inhibited) is a state only Alertmanager knows: add source: alertmanager")
	default:
		validateOneOf(src, path+".state", a.State, AlertFiring, AlertPending, AlertInactive)
	}
	for k := range a.Labels {
		if !labelName.MatchString(k) {
			src.Addf(joinPath(path+".labels", k), "is not a valid Prometheus label name")
		}
	}
}

// labelName is Prometheus's label name form.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// apiVersion is "v1" or "group/version".
var apiVersionPattern = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?$`)

var kindPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

func (r *ResourceCheck) validate(src *Source, path string) {
	switch {
	case r.APIVersion == "":
		src.Addf(path+".apiVersion", "is required, such as v1 or apps/v1")
	case !apiVersionPattern.MatchString(r.APIVersion):
		src.Addf(path+".apiVersion", "must look like v1 or apps/v1, got %q", r.APIVersion)
	}
	switch {
	case r.Kind == "":
		src.Addf(path+".kind", "is required, such as Pod or Deployment")
	case !kindPattern.MatchString(r.Kind):
		src.Addf(path+".kind", "must be a kind such as Deployment (starting with a capital letter), got %q", r.Kind)
	}
	if r.Namespace != "" && !dnsLabel.MatchString(r.Namespace) {
		src.Addf(path+".namespace", "must be a namespace name (a DNS-1123 label), got %q", r.Namespace)
	}
	r.validateMode(src, path)
	if r.Match != nil && len(r.Match) == 0 {
		src.Addf(path+".match", "is empty: give the fields the object must have, or leave match out")
	}
	if _, isMatcher := r.Match["op"]; isMatcher {
		src.Addf(path+".match.op", "a matcher goes on a field of the object, such as spec: {replicas: {op: \">=\", value: 2}}")
	} else {
		validateMatch(src, path+".match", r.Match)
	}
	if c := r.Condition; c != nil {
		if c.Type == "" {
			src.Addf(path+".condition.type", "is required, such as Ready or Available")
		}
		validateOneOf(src, path+".condition.status", c.Status, "True", "False", "Unknown")
	}
}

// validateMode checks that the resource check is about one object (name) or a count of
// objects (count, with an optional selector), not both.
func (r *ResourceCheck) validateMode(src *Source, path string) {
	switch {
	case r.Name != "" && r.Count != nil:
		src.Addf(path+".count", "cannot be used with name: count objects by selector, or check the one named object")
	case r.Name != "" && r.Selector != "":
		src.Addf(path+".selector", "cannot be used with name: a selector picks objects to count")
	case r.Name == "" && r.Count == nil:
		src.Addf(path, "needs name (one object) or count (objects matching selector, match and condition)")
	}
	if r.Count != nil {
		validateComparison(src, path+".count", r.Count.Op, r.Count.Value)
	}
	if r.Selector != "" {
		if _, err := labels.Parse(r.Selector); err != nil {
			src.Addf(path+".selector", "is not a label selector: %v", err)
		}
	}
}

// portName is an IANA service port name, as Kubernetes allows it.
var portName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (h *HTTPCheck) validate(src *Source, path string, timeout time.Duration) {
	if h.Service == "" {
		src.Addf(path+".service", "is required: the name of the Service to send the request to")
	} else if !dnsLabel.MatchString(h.Service) {
		src.Addf(path+".service", "must be a service name (a DNS-1123 label), got %q", h.Service)
	}
	if !dnsLabel.MatchString(h.Namespace) {
		src.Addf(path+".namespace", "must be a namespace name (a DNS-1123 label), got %q", h.Namespace)
	}
	validatePort(src, path+".port", h.Port)
	if !strings.HasPrefix(h.Path, "/") {
		src.Addf(path+".path", "must start with /, got %q", h.Path)
	}
	// The grader never changes the cluster, so only reading methods are allowed.
	validateOneOf(src, path+".method", h.Method, "GET", "HEAD")
	if h.Status < 100 || h.Status > 599 {
		src.Addf(path+".status", "must be an HTTP status code between 100 and 599, got %d", h.Status)
	}
	if h.Body != "" {
		if _, err := regexp.Compile(h.Body); err != nil {
			src.Addf(path+".body", "is not a regular expression: %v", err)
		}
	}
	if src.Has(path + ".maxLatency") {
		switch {
		case h.MaxLatency <= 0:
			src.Addf(path+".maxLatency", "must be a positive duration, got %s", h.MaxLatency)
		case h.MaxLatency >= timeout:
			src.Addf(path+".maxLatency", "%s is not below the check's timeout %s, so it could never be the reason the check fails", h.MaxLatency, timeout)
		}
	}
}

func validatePort(src *Source, path, port string) {
	if port == "" {
		return
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			src.Addf(path, "must be between 1 and 65535, got %d", n)
		}
		return
	}
	if !portName.MatchString(port) || len(port) > 15 {
		src.Addf(path, "must be a port number or a port name, got %q", port)
	}
}

// Validate checks checks built in code (after Default), such as a scenario's. Errors
// name fields under path but carry no file or line.
func ValidateChecks(path string, checks []Check) error {
	src := NewSource("")
	validateChecks(src, path, checks)
	return src.Err()
}

// String is the comparison as people write it: ">= 3".
func (c Comparison) String() string {
	if c.Value == nil {
		return c.Op
	}
	return fmt.Sprintf("%s %s", c.Op, FormatNumber(*c.Value))
}

// FormatNumber writes a number the shortest way that reads back the same: 3, 0.25, 1e+21.
func FormatNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
