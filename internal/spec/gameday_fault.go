package spec

import "time"

// FaultParams are the parameters of one chaos fault: the flags of `lab chaos run`
// (written kebab-case there: grace-period, abort-status) and the fields of a gameday's
// timeline entries. One struct for both, so a drill written in a file means exactly
// what the same flags mean. Which parameters a fault reads, their defaults and their
// limits are the chaos package's business; this package only decodes them.
type FaultParams struct {
	// Namespace of the target (default "default").
	Namespace string `json:"namespace,omitempty"`
	// Selector is a label selector for pods (pod-kill, hogs).
	Selector string `json:"selector,omitempty"`
	// Target names one object as kind/name: deployment/web, configmap/app, service/api.
	Target string `json:"target,omitempty"`
	// Node is a node's name (node-drain, node-stop, node-pause).
	Node string `json:"node,omitempty"`
	// Count and Percent say how many of the matching pods a fault picks.
	Count   int `json:"count,omitempty"`
	Percent int `json:"percent,omitempty"`
	// GracePeriod overrides the pods' own termination grace period.
	GracePeriod *time.Duration `json:"gracePeriod,omitempty"`
	// Interval repeats a pod-kill for as long as the fault lasts.
	Interval time.Duration `json:"interval,omitempty"`
	// Seed makes a random choice of victims replayable.
	Seed *int64 `json:"seed,omitempty"`
	// Replicas is the count scale sets; a pointer because 0 is the usual value.
	Replicas *int32 `json:"replicas,omitempty"`
	// Mode picks a variant: bad-rollout image|crash|args, config-break corrupt|remove.
	Mode string `json:"mode,omitempty"`
	// Image overrides the image a bad rollout rolls to.
	Image string `json:"image,omitempty"`
	// Args are the arguments a bad rollout of mode args adds to the container: a
	// version that starts but behaves badly (podinfo's --random-error=true).
	Args []string `json:"args,omitempty"`
	// Container of the target's pod template (default: the first).
	Container string `json:"container,omitempty"`
	// Key of a ConfigMap or Secret (config-break).
	Key string `json:"key,omitempty"`
	// CPU and Memory bound a hog pod (quantities: "1", "500m", "256Mi").
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	// Delay of http-delay; AbortStatus is the HTTP status http-abort answers with.
	Delay       time.Duration `json:"delay,omitempty"`
	AbortStatus int           `json:"abortStatus,omitempty"`
}
