package chaos

import (
	"fmt"
	"strings"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
)

// Lab is the lab a fault acts on, as the lab engine knows it. The command layer fills it
// from lab's records; the chaos engine checks it before anything else.
type Lab struct {
	Name string
	// Adopted is true when lab did not create the cluster (--provider existing): chaos
	// needs the consent recorded in AllowChaos, and a fault left behind stays there.
	Adopted bool
	// Simulated is true on sim clusters: pods report Running but no container runs.
	Simulated bool
	// Machines acts on the machines behind the nodes (kind's node containers), for
	// node-stop and node-pause; nil when lab cannot reach them.
	Machines cluster.Machines
	// Running is true when the lab's API server answers.
	Running bool
	Context string
	// AllowChaos is the consent recorded by `lab up --provider existing --allow-chaos`.
	AllowChaos bool
	Stacks     []string
	// Kubeconfig is the lab's admin kubeconfig.
	Kubeconfig []byte
	// JournalDir holds the lab's chaos journal (<state>/labs/<name>/chaos).
	JournalDir string
}

// admit refuses labs chaos must not act on: a cluster that does not answer, and an
// adopted cluster without recorded consent.
func (l *Lab) admit() error {
	if l.Adopted && !l.AllowChaos {
		return errs.Invalidf(
			fmt.Sprintf("if breaking it is fine, record consent with `lab up --provider existing --context %s --allow-chaos --name %s`", l.Context, l.Name),
			"lab %q adopted context %q: lab did not create that cluster, and chaos on it needs explicit consent", l.Name, l.Context)
	}
	if !l.Running {
		return errs.New(errs.Unavailable, fmt.Sprintf("lab %q is not running", l.Name), "start it with `lab up --name "+l.Name+"`")
	}
	return nil
}

// CheckSameCluster refuses a --kubeconfig/--context that points at a cluster other than
// the lab's: chaos acts on labs only, and a user who names a context expects that
// cluster to be the one broken. kubeconfigPath empty means the default loading rules,
// contextName empty the current context; clusters are told apart by API server URL.
func CheckSameCluster(l *Lab, kubeconfigPath, contextName string) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfigPath
	cfg, err := rules.Load()
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "cannot read the kubeconfig", "")
	}
	if contextName == "" {
		contextName = cfg.CurrentContext
	}
	kctx, ok := cfg.Contexts[contextName]
	if !ok {
		return errs.Invalidf("see `kubectl config get-contexts`", "context %q is not in the kubeconfig", contextName)
	}
	theirs := ""
	if c := cfg.Clusters[kctx.Cluster]; c != nil {
		theirs = c.Server
	}
	ours, err := serverOf(l.Kubeconfig)
	if err != nil {
		return err
	}
	if normalizeServer(theirs) != normalizeServer(ours) {
		return errs.Invalidf(
			"chaos acts only on labs: pick one with --name (see `lab list`), or adopt the cluster with `lab up --provider existing --context "+contextName+" --allow-chaos`",
			"context %q (%s) is not the cluster of lab %q (%s)", contextName, theirs, l.Name, ours)
	}
	return nil
}

func serverOf(kubeconfig []byte) (string, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return "", fmt.Errorf("reading the lab's kubeconfig: %w", err)
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok || cfg.Clusters[kctx.Cluster] == nil {
		return "", fmt.Errorf("the lab's kubeconfig has no current context")
	}
	return cfg.Clusters[kctx.Cluster].Server, nil
}

func normalizeServer(s string) string { return strings.TrimRight(strings.ToLower(s), "/") }
