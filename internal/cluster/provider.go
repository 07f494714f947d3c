// Package cluster defines the Provider interface that every cluster backend implements
// (kind, sim, existing) and the types they exchange with the lab engine.
package cluster

import (
	"context"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// Provider creates and removes clusters of one kind. Every method is safe to call again
// after an interruption: Create completes a half-created cluster, Delete of a missing
// cluster succeeds.
type Provider interface {
	// Name is the provider's name as written in a lab file (kind, sim, existing).
	Name() string
	// Info says what the provider's clusters are; the engines ask it instead of
	// branching on the provider's name.
	Info() Info
	// Preflight checks, before anything changes, that Create can succeed: returns an
	// *errs.Error naming what to fix, or nil. Warnings go to the emitter.
	Preflight(ctx context.Context, req Request, ev *event.Emitter) error
	// Create brings the cluster up, or finishes bringing it up.
	Create(ctx context.Context, req Request, ev *event.Emitter) error
	// Delete removes the cluster and everything the provider started for it.
	Delete(ctx context.Context, req Request) error
	// Kubeconfig returns an admin kubeconfig for the cluster, with exactly one context.
	Kubeconfig(ctx context.Context, req Request) ([]byte, error)
	// Status reports whether the cluster exists and runs.
	Status(ctx context.Context, req Request) (Status, error)
}

// Info is what a provider's clusters are and what lab may do with them (kind's
// ProviderInfo plays this part in kind).
type Info struct {
	// Adopted: lab did not create the cluster (existing). lab installs into it, removes
	// only what it installed, keeps the user's context name, and chaos needs consent.
	Adopted bool
	// Simulated: no container ever runs (sim: kwok plays the kubelet). An adopted
	// cluster may be simulated too; its Status says so.
	Simulated bool
	// HostPorts: the lab file's ports are mapped onto the host (kind's port mappings).
	HostPorts bool
	// OwnNodeCount: the provider, not spec.cluster.nodes, decides how many nodes the
	// cluster has (terraform: the module's vars).
	OwnNodeCount bool
}

// Machines acts on the machines behind a cluster's nodes (kind: the node containers):
// node-stop and node-pause go through it. Providers whose nodes lab cannot reach (sim,
// an adopted cluster) have none.
type Machines interface {
	// Reachable is nil when the machines can be acted on (Docker answers), else an
	// *errs.Error saying why not.
	Reachable(ctx context.Context) error
	// State is the machine's state: running, paused, exited, ...
	State(ctx context.Context, node string) (string, error)
	// Stop, Start, Pause and Unpause act on the machine of the node.
	Stop(ctx context.Context, node string) error
	Start(ctx context.Context, node string) error
	Pause(ctx context.Context, node string) error
	Unpause(ctx context.Context, node string) error
}

// MachineProvider is a provider whose nodes' machines lab can act on (kind).
type MachineProvider interface {
	Machines(req Request) Machines
}

// Request identifies one lab's cluster.
type Request struct {
	// Name is the lab's name; providers derive their own cluster names from it.
	Name string
	// Cluster is the wanted shape.
	Cluster spec.ClusterSpec
	// WorkDir is a directory owned by this lab (inside lab's state dir) where a provider
	// may keep files of its own.
	WorkDir string
	// KubeconfigPath is the user's kubeconfig (--kubeconfig or KUBECONFIG); the existing
	// provider reads the adopted context from it.
	KubeconfigPath string
	// ExtraMemory is what the lab's stacks request, in bytes: memory the cluster needs
	// beyond its nodes' own (kind's preflight compares it with Docker's).
	ExtraMemory int64
	// Confirm asks the user a yes/no question (nil means yes): terraform asks before it
	// applies a plan, which may cost money.
	Confirm func(question string) (bool, error)
	// Bundle is the verified offline bundle the cluster's images come from (kind):
	// its node image instead of the one the provider would pull, its images loaded
	// into the nodes. Nil means images come from registries.
	Bundle *Bundle
}

// Bundle is an offline bundle whose manifest and archives were verified.
type Bundle struct {
	Dir      string
	Manifest *bundle.Manifest
}

// Bundler is a Provider whose clusters can run from an offline bundle (kind): it
// packs images into a bundle, and loads them from it into a cluster's nodes.
type Bundler interface {
	// SaveImages writes the node image and the images into req.Dir as archives,
	// taking each from the local Docker, else pulling it.
	SaveImages(ctx context.Context, req SaveRequest, ev *event.Emitter) (*SavedImages, error)
	// LoadImages loads the images of req.Bundle into every node of the cluster that
	// does not have them yet.
	LoadImages(ctx context.Context, req Request, ev *event.Emitter) error
}

// SaveRequest says which images to pack into a bundle.
type SaveRequest struct {
	// Dir is the bundle directory; archives go to Dir/images.
	Dir string
	// KubernetesVersion is the lab's, which picks the default node image.
	KubernetesVersion string
	// NodeImage overrides the node image (like `kind create cluster --image`).
	NodeImage string
	// Images are the stacks' images: Ref and Stacks are read, the rest is filled in.
	Images []bundle.Image
	// Previous is the bundle's manifest from an earlier run, if any: an archive it
	// lists for the same image, with a sha256 that still matches, is reused.
	Previous *bundle.Manifest
}

// SavedImages are the archives SaveImages wrote or reused.
type SavedImages struct {
	// KubernetesVersion is the node image's (v1.36.4).
	KubernetesVersion string
	NodeImage         bundle.Image
	Images            []bundle.Image
}

// State of a cluster as a provider sees it.
type State string

const (
	Missing State = "missing" // nothing of the cluster exists
	Stopped State = "stopped" // it exists but does not answer (processes or containers down)
	Running State = "running" // its API server answers
)

// Status of a cluster.
type Status struct {
	State State `json:"state"`
	// Simulated is true when pods do not really run (the sim provider).
	Simulated bool `json:"simulated"`
	// Detail is a short, provider-specific explanation (for example why it is stopped).
	Detail string `json:"detail,omitempty"`
	// Problem says what is broken in a cluster that answers (a component down), empty
	// when nothing is; `lab up` repairs a cluster with a problem.
	Problem string `json:"problem,omitempty"`
}

// Keeper is implemented by providers whose work directory tracks what a cluster left
// behind (terraform's state): when lab forgets a lab without deleting its cluster, Keep
// moves what is needed to remove it by hand into dir, which lab never deletes, and
// says what it kept there and how to use it.
type Keeper interface {
	Keep(req Request, dir string) (string, error)
}

// LeftBehind is implemented by providers that can say what of a cluster remains when
// lab forgets a lab without deleting its cluster (`lab down --force` while the provider
// does not answer), and how to remove it by hand.
type LeftBehind interface {
	LeftBehind(req Request) string
}
