package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// UpOptions says which lab to bring up and how.
type UpOptions struct {
	Lab *spec.Lab
	// Name overrides the lab's metadata.name.
	Name string
	// Source is where Lab came from, for the record.
	Source string
	// Provider overrides spec.cluster.provider when not empty.
	Provider string
	// Context overrides spec.cluster.context (existing provider).
	Context string
	// AllowChaos records consent to chaos on an adopted cluster (existing provider only).
	AllowChaos bool
	// Recreate deletes a lab whose cluster differs, then creates it again.
	Recreate bool
	// Confirm asks the user before destroying anything, or before a provider makes
	// what costs money (terraform's apply); nil means yes.
	Confirm func(question string) (bool, error)
	// Offline installs upstream charts from lab's cache only (see `lab pull`).
	Offline bool
	// Bundle is an offline bundle directory (`lab pull --bundle`): the kind cluster's
	// node image, its stacks' images and charts come from it. Empty: the bundle the
	// lab was brought up from, if any.
	Bundle string
}

// UpResult is what `lab up` did.
type UpResult struct {
	Record *Record `json:"record"`
	// AlreadyUp is true when nothing needed doing.
	AlreadyUp bool `json:"alreadyUp"`
	// Stacks are the releases of the lab's stacks and what this run did to each.
	Stacks []stack.Release `json:"stacks,omitempty"`
}

const interruptedUpHint = "run `lab up` again to finish, or `lab down` to remove what was created"

// Up reconciles the lab: creates it, completes an interrupted creation, restarts a
// stopped one, reports "already up" when it matches, and refuses a different cluster
// shape unless Recreate.
func (m *Manager) Up(ctx context.Context, opts UpOptions) (*UpResult, error) {
	lab := *opts.Lab
	name := lab.Metadata.Name
	if opts.Name != "" {
		if err := ValidateName(opts.Name); err != nil {
			return nil, err
		}
		name = opts.Name
	}
	if opts.Context != "" {
		lab.Spec.Cluster.Context = opts.Context
	}
	if err := m.validateStacks(&lab, opts.Source); err != nil {
		return nil, err
	}
	lock, err := m.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer lock.Release()

	rec, err := m.store().load(name)
	if err != nil {
		return nil, err
	}
	bdl, err := m.openBundle(ctx, opts.Bundle, rec, lab)
	if err != nil {
		return nil, err
	}
	provider := opts.Provider
	if bdl != nil && provider == "" && rec == nil && (lab.Spec.Cluster.Provider == "" || lab.Spec.Cluster.Provider == spec.ProviderAuto) {
		provider = spec.ProviderKind // a bundle is for kind, whether Docker answers or not (the preflight says)
	}
	if err := m.resolveProvider(ctx, &lab, rec, provider); err != nil {
		return nil, err
	}
	if bdl != nil && lab.Spec.Cluster.Provider != spec.ProviderKind {
		return nil, errs.Invalidf("drop --bundle, or use --provider kind",
			"--bundle brings up a kind cluster, but this lab's provider is %s", lab.Spec.Cluster.Provider)
	}
	if opts.AllowChaos {
		if lab.Spec.Cluster.Provider != spec.ProviderExisting {
			return nil, errs.Invalidf("labs lab creates allow chaos already; --allow-chaos is consent for a cluster you adopt",
				"--allow-chaos needs --provider existing")
		}
		lab.Spec.Cluster.AllowChaos = true
	}
	if lab.Spec.Cluster.Provider == spec.ProviderExisting {
		if err := m.checkAdoption(name, &lab, rec, opts.Confirm); err != nil {
			return nil, err
		}
	}
	if rec != nil {
		diff := m.clusterDiff(rec, &lab)
		if len(diff) > 0 && !opts.Recreate {
			return nil, errs.Invalidf("run `lab up --recreate` to delete the lab and create it with the new shape (workloads in it are lost)",
				"lab %q exists with a different cluster:\n%s", name, indent(diff))
		}
		if len(diff) > 0 || opts.Recreate && !m.healthy(ctx, rec) {
			if err := m.recreate(ctx, rec, opts.Confirm); err != nil {
				return nil, err
			}
			rec = nil
		} else if appliesInPlace(rec, &lab) {
			// The provider changes the cluster it made: create runs it again.
		} else if done, err := m.alreadyUp(ctx, rec); err != nil || done {
			if done {
				return m.reconcileStacks(ctx, rec, lab, opts.Offline, bdl)
			}
			return nil, err
		}
	}
	return m.create(ctx, name, lab, opts, rec, bdl)
}

// appliesInPlace: settings of the cluster that are not its shape changed, and its
// provider applies them to the cluster it made (terraform's vars). They are compared
// as JSON: the record's numbers come back from JSON as float64, the file's from YAML as
// int, and 2 is 2 either way.
func appliesInPlace(rec *Record, lab *spec.Lab) bool {
	was, errWas := json.Marshal(rec.Spec.Spec.Cluster.Terraform)
	now, errNow := json.Marshal(lab.Spec.Cluster.Terraform)
	return errWas != nil || errNow != nil || !bytes.Equal(was, now)
}

// reconcileStacks brings the stacks of a lab that is up to its definition: a release
// whose chart version and values are unchanged is left alone, so a second `lab up`
// upgrades nothing.
func (m *Manager) reconcileStacks(ctx context.Context, rec *Record, lab spec.Lab, offline bool, bdl *cluster.Bundle) (*UpResult, error) {
	rec.Spec = lab
	if bdl != nil {
		rec.Bundle = bdl.Dir
	}
	if err := m.store().save(rec); err != nil {
		return nil, err
	}
	if err := m.loadImages(ctx, m.request(rec.Name, lab.Spec.Cluster), bdl); err != nil {
		return nil, stepError(ctx, err)
	}
	rels, err := m.installStacks(ctx, rec, lab.Spec.Stacks, offline)
	if err != nil {
		return nil, stepError(ctx, err)
	}
	return &UpResult{Record: rec, AlreadyUp: allUnchanged(rels), Stacks: rels}, nil
}

// resolveProvider settles "auto": an existing lab keeps its provider, a new one gets
// kind when Docker answers and sim otherwise.
func (m *Manager) resolveProvider(ctx context.Context, lab *spec.Lab, rec *Record, override string) error {
	c := &lab.Spec.Cluster
	if override != "" {
		c.Provider = override
	}
	if c.Provider == "" {
		c.Provider = spec.ProviderAuto
	}
	if c.Provider != spec.ProviderAuto {
		_, err := m.provider(c.Provider)
		return err
	}
	if rec != nil {
		c.Provider = rec.Provider
		return nil
	}
	if err := m.DockerReachable(ctx); err != nil {
		c.Provider = spec.ProviderSim
		m.Events.Info("Docker is not reachable: this lab is simulated (sim), no container really runs. For a real one, start Docker and use --provider kind.")
		return nil
	}
	c.Provider = spec.ProviderKind
	return nil
}

// clusterDiff lists the cluster-shaping differences between the recorded lab and the
// wanted one, comparing what the provider really maps.
func (m *Manager) clusterDiff(rec *Record, want *spec.Lab) []string {
	old, cur := rec.Spec.Spec.Cluster, want.Spec.Cluster
	old.Provider = rec.Provider
	old.Ports = effectivePorts(m.info(old.Provider), old.Ports)
	cur.Ports = effectivePorts(m.info(cur.Provider), cur.Ports)
	return spec.DiffCluster(old, cur)
}

func (m *Manager) recreate(ctx context.Context, rec *Record, confirm func(string) (bool, error)) error {
	if confirm != nil {
		ok, err := confirm(fmt.Sprintf("Delete lab %q and create it again? Everything in it is lost.", rec.Name))
		if err != nil {
			return err
		}
		if !ok {
			return errs.New(errs.Invalid, "recreate cancelled", "")
		}
	}
	_, err := m.down(ctx, rec, false)
	return err
}

// healthy is true when the lab's cluster runs with nothing broken: --recreate leaves
// such a lab of the same shape alone, and replaces one that is stopped or broken.
func (m *Manager) healthy(ctx context.Context, rec *Record) bool {
	p, err := m.provider(rec.Provider)
	if err != nil {
		return false
	}
	st, err := p.Status(ctx, m.request(rec.Name, rec.Spec.Spec.Cluster))
	return err == nil && st.State == cluster.Running && st.Problem == ""
}

// alreadyUp is true when the recorded lab is Ready, its cluster answers and its
// context is still in the user's kubeconfig.
func (m *Manager) alreadyUp(ctx context.Context, rec *Record) (bool, error) {
	if rec.Phase != Ready {
		m.Events.Info(fmt.Sprintf("lab %q was not finished (%s); completing it", rec.Name, rec.Phase))
		return false, nil
	}
	p, err := m.provider(rec.Provider)
	if err != nil {
		return false, err
	}
	st, err := p.Status(ctx, m.request(rec.Name, rec.Spec.Spec.Cluster))
	if err != nil {
		return false, err
	}
	if st.State != cluster.Running {
		m.Events.Info(fmt.Sprintf("lab %q is %s (%s); starting it again", rec.Name, st.State, st.Detail))
		return false, nil
	}
	if st.Problem != "" {
		m.Events.Info(fmt.Sprintf("lab %q is degraded (%s); repairing it", rec.Name, st.Problem))
		return false, nil
	}
	if rec.UserKubeconfig != "" && !kube.HasContext(rec.UserKubeconfig, rec.Context) {
		m.Events.Info(fmt.Sprintf("context %s is missing from %s; writing it again", rec.Context, rec.UserKubeconfig))
		return false, nil
	}
	m.Events.Info(fmt.Sprintf("lab %q is already up (context %s)", rec.Name, rec.Context))
	return true, nil
}

// create runs the steps of bringing a lab up. The record is written first (Creating)
// and last (Ready); every step is safe to run again.
func (m *Manager) create(ctx context.Context, name string, lab spec.Lab, opts UpOptions, rec *Record, bdl *cluster.Bundle) (*UpResult, error) {
	p, err := m.provider(lab.Spec.Cluster.Provider)
	if err != nil {
		return nil, err
	}
	req := m.request(name, lab.Spec.Cluster)
	req.Bundle, req.Confirm = bdl, opts.Confirm
	src := m.source(opts.Offline)
	if bdl != nil {
		src = m.sourceOf(bdl.Dir, true)
	}
	// Preflight changes nothing, so it runs before the record exists: a lab that cannot
	// start leaves no trace. The stacks' footprint is part of it: rendering their charts
	// proves they can be installed (offline: that they are cached), and what they
	// request is memory the cluster needs beyond its nodes' own.
	preflight := func(ctx context.Context) error {
		fp, err := m.footprint(lab, src)
		if err != nil {
			return err
		}
		if fp != nil {
			req.ExtraMemory = fp.Total.MemoryRequestsBytes
			m.Events.Info(footprintNote(fp))
		}
		return p.Preflight(ctx, req, m.Events)
	}
	if err := m.Events.Step(ctx, "Checking prerequisites", preflight); err != nil {
		return nil, stepError(ctx, err)
	}
	if rec == nil {
		rec = &Record{Name: name, CreatedAt: time.Now().UTC()}
	}
	rec.Provider, rec.Phase, rec.Spec, rec.Source = p.Name(), Creating, lab, opts.Source
	rec.NoCluster = false // from here on, the provider may make something
	rec.Kubeconfig = m.store().kubeconfigPath(name)
	if bdl != nil {
		rec.Bundle = bdl.Dir
	}
	if err := m.store().save(rec); err != nil {
		return nil, err
	}
	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{fmt.Sprintf("Creating cluster (%s)", p.Name()), func(ctx context.Context) error { return m.createCluster(ctx, p, req, rec) }},
		{"Writing kubeconfig", func(ctx context.Context) error { return m.writeKubeconfig(ctx, p, req, rec) }},
		{fmt.Sprintf("Waiting for %s to be Ready", nodesPhrase(lab.Spec.Cluster, p.Info())), func(ctx context.Context) error { return m.waitNodes(ctx, p, req, rec) }},
	}
	for _, s := range steps {
		if err := m.Events.Step(ctx, s.title, s.run); err != nil {
			return nil, stepError(ctx, err)
		}
	}
	if err := m.loadImages(ctx, req, bdl); err != nil {
		return nil, stepError(ctx, err)
	}
	// The cluster is Ready before its stacks: a stack that fails leaves a lab that
	// `lab stacks remove` can act on and the next `lab up` completes.
	rec.Phase = Ready
	if err := m.store().save(rec); err != nil {
		return nil, err
	}
	rels, err := m.installStacks(ctx, rec, lab.Spec.Stacks, opts.Offline)
	if err != nil {
		return nil, stepError(ctx, err)
	}
	return &UpResult{Record: rec, Stacks: rels}, nil
}

// createCluster runs the provider's Create. When it fails (not interrupted), the
// provider is asked what is left: a cluster reported missing is recorded as such
// (NoCluster), so that `lab down` can forget the lab even once the provider no longer
// answers (Docker stopped since).
func (m *Manager) createCluster(ctx context.Context, p cluster.Provider, req cluster.Request, rec *Record) error {
	err := p.Create(ctx, req, m.Events)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if st, stErr := p.Status(ctx, req); stErr == nil && st.State == cluster.Missing {
		rec.NoCluster = true
		if saveErr := m.store().save(rec); saveErr != nil {
			return errors.Join(err, saveErr)
		}
	}
	return err
}

// footprintNote tells what the stacks will ask of the cluster.
func footprintNote(fp *stack.Footprint) string {
	t := fp.Total
	return fmt.Sprintf("the stacks (%s profile) request %s CPU and %s of memory, limits %s CPU and %s (see `lab footprint`)",
		fp.Profile, stack.FormatCPU(t.CPURequestsMilli), stack.FormatMemory(t.MemoryRequestsBytes),
		stack.FormatCPU(t.CPULimitsMilli), stack.FormatMemory(t.MemoryLimitsBytes))
}

// writeKubeconfig keeps lab's own copy of the admin kubeconfig and, for clusters lab
// created, merges it into the user's kubeconfig as context lab-<name>, made current
// (what kind does with kind-<name>).
func (m *Manager) writeKubeconfig(ctx context.Context, p cluster.Provider, req cluster.Request, rec *Record) error {
	data, err := p.Kubeconfig(ctx, req)
	if err != nil {
		return err
	}
	if p.Info().Adopted {
		_, rec.Context, err = kube.ExtractContext(req.KubeconfigPath, req.Cluster.Context)
		if err != nil {
			return err
		}
		return writePrivate(rec.Kubeconfig, data)
	}
	rec.Context = "lab-" + req.Name
	if data, err = kube.RenameContext(data, rec.Context); err != nil {
		return err
	}
	if err := writePrivate(rec.Kubeconfig, data); err != nil {
		return err
	}
	rec.UserKubeconfig = kube.UserKubeconfigPath(m.UserKubeconfig)
	if err := m.store().save(rec); err != nil {
		return err
	}
	previous, err := kube.MergeContext(ctx, rec.UserKubeconfig, data)
	if err == nil && previous != rec.Context {
		was := "no context was current before"
		if previous != "" {
			was = "it was " + previous + "; `kubectl config use-context " + previous + "` goes back"
		}
		m.Events.Info(fmt.Sprintf("kubectl's current context is now %s (%s)", rec.Context, was))
	}
	return err
}

// waitNodes waits for the lab's nodes to be Ready; when they are not, the error also
// says what the provider sees broken (a component of the cluster that died).
func (m *Manager) waitNodes(ctx context.Context, p cluster.Provider, req cluster.Request, rec *Record) error {
	err := m.waitNodesReady(ctx, rec, req.Cluster, p.Info())
	if err == nil || ctx.Err() != nil {
		return err
	}
	if st, stErr := p.Status(ctx, req); stErr == nil && st.Problem != "" {
		return fmt.Errorf("%w; the cluster has a problem: %s", err, st.Problem)
	}
	return err
}

func (m *Manager) waitNodesReady(ctx context.Context, rec *Record, c spec.ClusterSpec, info cluster.Info) error {
	data, err := readPrivate(rec.Kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kube.Clientset(data)
	if err != nil {
		return err
	}
	want := c.NodeCount()
	if info.Adopted || info.OwnNodeCount {
		want = 1 // such a cluster has the nodes it has: wait for one at least
	}
	timeout := m.NodeTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	return kube.WaitNodesReady(ctx, cs, want, timeout)
}

func nodesPhrase(c spec.ClusterSpec, info cluster.Info) string {
	if info.Adopted || info.OwnNodeCount {
		return "nodes"
	}
	if n := c.NodeCount(); n != 1 {
		return fmt.Sprintf("%d nodes", n)
	}
	return "1 node"
}

// stepError turns a failure caused by Ctrl-C into the interrupted error.
func stepError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return interrupted(interruptedUpHint, ctx.Err())
	}
	return err
}
