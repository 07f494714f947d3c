package chaos

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cloudnativelab/lab/internal/spec"
)

// Params are a fault's parameters and which of them were given: a fault refuses
// parameters it does not read, so a typo'd drill never silently does something else.
type Params struct {
	spec.FaultParams
	// Given names the parameters set explicitly, camelCase as in a gameday file
	// (gracePeriod), whatever their value.
	Given []string
}

func (p Params) given(name string) bool { return slices.Contains(p.Given, name) }

// Limits are the guard rails a user may widen on purpose.
type Limits struct {
	// IncludeSystem allows acting on kube-system, the lab's stack namespaces and nodes'
	// system pods.
	IncludeSystem bool
	// MaxPods caps the pods one fault deletes, evicts or scales away.
	MaxPods int
	// MaxPercent caps the share of a namespace's pods (of the cluster's, for a node
	// drain) one fault deletes or evicts.
	MaxPercent int
	// BeyondCapacity lifts the capacity caps: scale may add more pods than the lab's
	// schedulable nodes have room for, and a hog may ask for more CPU or memory than
	// its node has.
	BeyondCapacity bool

	// inFile names the limits as a gameday file's fields (spec.blastRadius.maxPods)
	// rather than as flags (--max-pods) in refusals.
	inFile bool
}

// option is how the user sets a limit: a flag, or a gameday's field.
func (l Limits) option(param string) string {
	if l.inFile {
		return "spec.blastRadius." + param
	}
	return FlagName(param)
}

// allow says how to lift a boolean limit: pass the flag, or set the field.
func (l Limits) allow(param string) string {
	if l.inFile {
		return "set spec.blastRadius." + param + ": true"
	}
	return "pass " + FlagName(param)
}

// DefaultLimits are the guard rails when none are given.
var DefaultLimits = Limits{MaxPods: 20, MaxPercent: 50}

func (l Limits) validate() ParamErrors {
	var errs ParamErrors
	if l.MaxPods < 1 {
		errs.add("maxPods", "must be at least 1, got %d", l.MaxPods)
	}
	if l.MaxPercent < 1 || l.MaxPercent > 100 {
		errs.add("maxPercent", "must be between 1 and 100, got %d", l.MaxPercent)
	}
	return errs
}

// ParamError is one bad parameter. Param is camelCase; the command line shows it as a
// flag (--grace-period), a gameday file as a field with its line.
type ParamError struct {
	Param   string
	Message string
	// accepted, for a parameter the fault does not read, lists those it does: written
	// as flags on the command line, as fields in a file.
	accepted []string
}

// text is the message, with the accepted parameters named by name.
func (e ParamError) text(name func(string) string) string {
	if len(e.accepted) == 0 {
		return e.Message
	}
	names := make([]string, len(e.accepted))
	for i, a := range e.accepted {
		names[i] = name(a)
	}
	return e.Message + " (it reads " + strings.Join(names, " ") + ")"
}

// ParamErrors are every problem with one fault's parameters, so they are fixed at once.
type ParamErrors []ParamError

func (l *ParamErrors) add(param, format string, args ...any) {
	*l = append(*l, ParamError{Param: param, Message: fmt.Sprintf(format, args...)})
}

// Error reads as flags: "--count: must be at least 1", one problem per line.
func (l ParamErrors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = FlagName(e.Param) + ": " + e.text(FlagName)
	}
	return strings.Join(lines, "\n")
}

// FlagName is the command-line flag of a parameter: gracePeriod -> --grace-period.
func FlagName(param string) string {
	var b strings.Builder
	b.WriteString("--")
	for _, r := range param {
		if unicode.IsUpper(r) {
			b.WriteByte('-')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkAccepted reports every given parameter the fault does not read.
func checkAccepted(fault string, accepted []string, p Params, errs *ParamErrors) {
	for _, g := range p.Given {
		if !slices.Contains(accepted, g) {
			*errs = append(*errs, ParamError{Param: g, Message: "does not apply to " + fault, accepted: accepted})
		}
	}
}

func checkNamespace(p Params, errs *ParamErrors) {
	if p.Namespace == "" {
		return
	}
	if msgs := validation.IsDNS1123Label(p.Namespace); len(msgs) > 0 {
		errs.add("namespace", "%q is not a namespace name: %s", p.Namespace, msgs[0])
	}
}

func checkSelector(p Params, errs *ParamErrors) {
	if _, err := labels.Parse(p.Selector); err != nil {
		errs.add("selector", "%q is not a label selector: %v", p.Selector, err)
	}
}

// checkHowMany validates count and percent, which choose how many pods to pick.
func checkHowMany(p Params, errs *ParamErrors) {
	if p.given("count") && p.given("percent") {
		errs.add("percent", "give either count or percent, not both")
	}
	if p.given("count") && p.Count < 1 {
		errs.add("count", "must be at least 1, got %d", p.Count)
	}
	checkPercent(p, errs)
}

func checkPercent(p Params, errs *ParamErrors) {
	if p.given("percent") && (p.Percent < 1 || p.Percent > 100) {
		errs.add("percent", "must be between 1 and 100, got %d", p.Percent)
	}
}

func checkGracePeriod(p Params, errs *ParamErrors) {
	if p.GracePeriod != nil && *p.GracePeriod < 0 {
		errs.add("gracePeriod", "must not be negative, got %s", *p.GracePeriod)
	}
}

func checkRequired(p Params, errs *ParamErrors, names ...string) {
	for _, n := range names {
		if !p.given(n) {
			errs.add(n, "is required")
		}
	}
}

func checkQuantity(param, value string, errs *ParamErrors) {
	if value == "" {
		return
	}
	q, err := resource.ParseQuantity(value)
	if err != nil {
		errs.add(param, "%q is not a quantity (examples: 1, 500m, 256Mi)", value)
		return
	}
	if q.Sign() <= 0 {
		errs.add(param, "must be more than zero, got %s", value)
	}
}

// targetKinds maps what users write before the slash to a kind.
var targetKinds = map[string]string{
	"deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
	"statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
	"replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "rs": "ReplicaSet",
	"daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
	"configmap": "ConfigMap", "configmaps": "ConfigMap", "cm": "ConfigMap",
	"secret": "Secret", "secrets": "Secret",
	"service": "Service", "services": "Service", "svc": "Service",
	"pod": "Pod", "pods": "Pod", "po": "Pod",
	"rollout": "Rollout", "rollouts": "Rollout", "ro": "Rollout",
}

// parseTarget reads kind/name and checks the kind is one of allowed.
func parseTarget(target string, allowed ...string) (kind, name string, err error) {
	prefix, name, ok := strings.Cut(target, "/")
	kind = targetKinds[strings.ToLower(prefix)]
	if !ok || name == "" || kind == "" || !slices.Contains(allowed, kind) {
		examples := make([]string, len(allowed))
		for i, k := range allowed {
			examples[i] = strings.ToLower(k) + "/NAME"
		}
		return "", "", fmt.Errorf("%q is not a target here: write %s", target, strings.Join(examples, " or "))
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return "", "", fmt.Errorf("%q is not an object name: %s", name, msgs[0])
	}
	return kind, name, nil
}

func checkTarget(p Params, errs *ParamErrors, allowed ...string) {
	if p.Target == "" {
		return
	}
	if _, _, err := parseTarget(p.Target, allowed...); err != nil {
		errs.add("target", "%v", err)
	}
}

func namespaceOr(p Params) string {
	if p.Namespace == "" {
		return "default"
	}
	return p.Namespace
}

// CheckFault validates a fault written in a file (a gameday's timeline, a scenario's
// setup): its type and parameters, a message per field, camelCase as written there.
func CheckFault(f spec.Fault) map[string]string {
	fault, err := Lookup(f.Type)
	if err != nil {
		return map[string]string{"type": err.Error()}
	}
	out := map[string]string{}
	for _, p := range fault.Validate(Params{FaultParams: f.FaultParams, Given: f.Given}) {
		msg := p.text(func(s string) string { return s })
		if prev, ok := out[p.Param]; ok {
			msg = prev + "; " + msg
		}
		out[p.Param] = msg
	}
	if f.Duration < 0 || f.Duration > MaxDuration {
		out["duration"] = fmt.Sprintf("must be between 0s and %s, got %s", MaxDuration, f.Duration)
	}
	return out
}
