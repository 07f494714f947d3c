package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Fault is one kind of breakage. Implementations are stateless: what one injection
// needs to be reverted lives in its journal Entry, so a revert works in another process,
// after a crash.
type Fault interface {
	Name() string
	// Summary is one line for `lab chaos list` and help.
	Summary() string
	// Params are the parameters it reads, camelCase.
	Params() []string
	// Validate checks the parameters alone, before the cluster is asked anything.
	Validate(p Params) ParamErrors
	// Support says whether it can run on the lab's cluster at all, and why not.
	Support(ctx context.Context, env *Env) Support
	// Plan resolves the targets from reads only, applies the guard rails and lists every
	// object the injection will change. rng is seeded; faults that choose at random
	// use it and nothing else, so a seed replays the same choice.
	Plan(ctx context.Context, env *Env, p Params, lim Limits, rng *rand.Rand) (*Plan, error)
	// Inject breaks what the plan (in e.Data) says; it may record more in e.Data.
	Inject(ctx context.Context, env *Env, e *Entry) error
	// Revert undoes it. It must be idempotent: it runs again after a partial injection,
	// after a failed revert, and after a revert that succeeded but was not recorded.
	Revert(ctx context.Context, env *Env, e *Entry) error
}

// repeater is a fault that strikes again every interval while it lasts (pod-kill).
type repeater interface {
	Repeat(ctx context.Context, env *Env, e *Entry, rng *rand.Rand) error
}

// forgetter is a fault whose revert record holds what must not outlive the fault (a
// Secret's value): the engine calls Forget once the revert succeeded, before the entry
// is written as reverted.
type forgetter interface {
	Forget(e *Entry) error
}

// instant is a fault whose damage is done once injected (a pod-kill without interval):
// recovery is timed from the injection, not from the revert.
type instant interface {
	Instant(e *Entry) bool
}

// SupportLevel says whether a fault can run on a cluster.
type SupportLevel string

const (
	Supported   SupportLevel = "yes"
	Limited     SupportLevel = "limited" // runs, but the reason says what does not happen
	Unsupported SupportLevel = "no"
)

// Support is a fault's answer for one cluster.
type Support struct {
	Level  SupportLevel `json:"level"`
	Reason string       `json:"reason,omitempty"`
}

func supported() Support                  { return Support{Level: Supported} }
func limited(reason string) Support       { return Support{Level: Limited, Reason: reason} }
func unsupportedBy(reason string) Support { return Support{Level: Unsupported, Reason: reason} }

// ObjectRef names one Kubernetes object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r ObjectRef) String() string {
	s := strings.ToLower(r.Kind) + "/" + r.Name
	if r.Namespace != "" {
		s = r.Namespace + "/" + s
	}
	return s
}

// Change is one object an injection changes, as a dry run lists it.
type Change struct {
	Action string `json:"action"` // delete, evict, scale, roll, edit, restart, cordon, create, annotate, stop, pause
	ObjectRef
	Detail string `json:"detail,omitempty"`
}

// Plan is what an injection will do, decided before anything changes.
type Plan struct {
	Fault   string  `json:"fault"`
	Lab     string  `json:"lab"`
	Summary string  `json:"summary"`
	Support Support `json:"support"`
	// Seed is the random seed used for the choice, when the fault chose at random.
	Seed     *int64   `json:"seed,omitempty"`
	Changes  []Change `json:"changes"`
	Warnings []string `json:"warnings,omitempty"`
	// Targets get the chaos annotations while the fault lasts.
	Targets []ObjectRef `json:"targets,omitempty"`
	// Watch are the workloads whose health is the recovery.
	Watch  []ObjectRef `json:"watch,omitempty"`
	Params Params      `json:"-"`
	// data is the fault's revert record, stored in the journal entry.
	data any
}

var registry = []Fault{
	podKill{}, scaleFault{}, badRollout{}, configBreak{}, nodeDrain{},
	nodeMachine{name: "node-stop"}, nodeMachine{name: "node-pause"},
	hog{name: "cpu-hog"}, hog{name: "memory-hog"},
	httpFault{name: "http-delay"}, httpFault{name: "http-abort"},
}

// Faults lists every fault, in the order `lab chaos list` shows them.
func Faults() []Fault { return slices.Clone(registry) }

// FaultNames is the name of every fault.
func FaultNames() []string {
	names := make([]string, len(registry))
	for i, f := range registry {
		names[i] = f.Name()
	}
	return names
}

// Lookup finds a fault by name.
func Lookup(name string) (Fault, error) {
	for _, f := range registry {
		if f.Name() == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("unknown fault %q: the faults are %s", name, strings.Join(FaultNames(), ", "))
}

// newRand is the one source of randomness of an injection: PCG seeded with the seed,
// so the same seed on the same cluster state picks the same victims.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x6c61622d6368616f)) // "lab-chao"
}

// decodeData reads an entry's revert record into the fault's own type.
func decodeData[T any](e *Entry) (*T, error) {
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return nil, fmt.Errorf("journal entry %s has an unreadable revert record: %w", e.ID, err)
	}
	return &v, nil
}

// setData stores the fault's record back into the entry.
func setData(e *Entry, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.Data = data
	return nil
}

func lower(s string) string { return strings.ToLower(s) }
