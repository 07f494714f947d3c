package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudnativelab/lab/internal/errs"
)

// The Argo Rollouts resources lab reads and patches.
var (
	RolloutsResource     = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}
	AnalysisRunsResource = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysisruns"}
)

// hashLabel is the label Argo Rollouts puts on each version's replica set and pods.
const hashLabel = "rollouts-pod-template-hash"

// Client reads and steers rollouts on one cluster.
type Client struct {
	Dynamic dynamic.Interface
	Kube    kubernetes.Interface
}

// Get reads one rollout with its replica sets and analysis runs. An empty namespace
// looks in every namespace and needs the name to be unique there.
func (c *Client) Get(ctx context.Context, namespace, name string) (*Rollout, error) {
	obj, err := c.find(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return c.describe(ctx, obj)
}

// List reads every rollout of a namespace (every namespace when empty), sorted by
// namespace and name.
func (c *Client) List(ctx context.Context, namespace string) ([]*Rollout, error) {
	list, err := c.Dynamic.Resource(RolloutsResource).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, apiErr(err, "list rollouts")
	}
	out := make([]*Rollout, 0, len(list.Items))
	for i := range list.Items {
		r, err := c.describe(ctx, &list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// find gets the rollout object, searching every namespace when none is given.
func (c *Client) find(ctx context.Context, namespace, name string) (*unstructured.Unstructured, error) {
	res := c.Dynamic.Resource(RolloutsResource)
	if namespace != "" {
		obj, err := res.Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, notFound(namespace, name)
		}
		return obj, apiErr(err, "read rollout "+namespace+"/"+name)
	}
	list, err := res.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		return nil, apiErr(err, "list rollouts")
	}
	switch len(list.Items) {
	case 0:
		return nil, notFound("", name)
	case 1:
		return &list.Items[0], nil
	}
	var where []string
	for _, it := range list.Items {
		where = append(where, it.GetNamespace())
	}
	sort.Strings(where)
	return nil, errs.Invalidf("give one with -n, for example -n "+where[0],
		"rollout %s is in %d namespaces (%s)", name, len(where), strings.Join(where, ", "))
}

// NotFoundError is a rollout that does not exist (yet); an empty Namespace means none
// of every namespace's.
type NotFoundError struct{ Namespace, Name string }

func (e *NotFoundError) Error() string {
	if e.Namespace == "" {
		return "no rollout named " + e.Name + " in any namespace"
	}
	return "rollout " + e.Namespace + "/" + e.Name + " not found"
}

// notFound is the command-line error for it: a wrong name is the user's to fix.
func notFound(namespace, name string) error {
	return &errs.Error{Kind: errs.Invalid, Err: &NotFoundError{Namespace: namespace, Name: name},
		Hint: "`lab delivery status` lists the rollouts there are"}
}

// isNotFound is a rollout that does not exist (yet), as opposed to a name that is
// ambiguous or an API that refused.
func isNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// apiErr says what lab was doing when the API refused; a missing Rollout API means
// the delivery stack is not installed.
func apiErr(err error, doing string) error {
	if err == nil {
		return nil
	}
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		return errs.Wrap(errs.Unavailable, err, "cannot "+doing+": the cluster has no Argo Rollouts API",
			"install the delivery stack: lab stacks add delivery")
	}
	return errs.Wrap(errs.Unavailable, err, "cannot "+doing, "")
}

// decode reads an unstructured object into one of the JSON views above.
func decode(obj *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// describe turns a Rollout object into lab's view, with its versions and analyses.
func (c *Client) describe(ctx context.Context, obj *unstructured.Unstructured) (*Rollout, error) {
	var ro rolloutObject
	if err := decode(obj, &ro); err != nil {
		return nil, fmt.Errorf("rollout %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	r := summarize(&ro)
	var err error
	if r.ReplicaSets, err = c.replicaSets(ctx, &ro, r); err != nil {
		return nil, err
	}
	if r.Analysis, err = c.analysisRuns(ctx, &ro); err != nil {
		return nil, err
	}
	return r, nil
}

// summarize is the rollout's own fields, without the objects it owns.
func summarize(ro *rolloutObject) *Rollout {
	st := ro.Status
	r := &Rollout{
		Namespace: ro.Metadata.Namespace, Name: ro.Metadata.Name,
		Phase: st.Phase, Message: st.Message, Aborted: st.Abort,
		Observed:   st.ObservedGeneration == strconv.FormatInt(ro.Metadata.Generation, 10),
		StableHash: st.StableRS, CurrentHash: st.CurrentPodHash,
	}
	for _, pc := range st.PauseConditions {
		r.Paused = append(r.Paused, pc.Reason)
	}
	if ro.Spec.Paused {
		r.Paused = append(r.Paused, "PausedBySpec")
	}
	switch {
	case ro.Spec.Strategy.BlueGreen != nil:
		r.Strategy = StrategyBlueGreen
	case ro.Spec.Strategy.Canary != nil:
		r.Strategy = StrategyCanary
		r.Steps = len(ro.Spec.Strategy.Canary.Steps)
		r.Step = st.CurrentStepIndex
		r.Weight = canaryWeight(ro.Spec.Strategy.Canary.Steps, st.CurrentStepIndex)
	}
	return r
}

// canaryWeight is the weight the steps before the current one set: 0 before the
// first setWeight, 100 once every step is done, nil before the controller has started.
func canaryWeight(steps []canaryStep, index *int) *int {
	if index == nil || len(steps) == 0 {
		return nil
	}
	w := 0
	if *index >= len(steps) {
		w = 100
	} else {
		for _, s := range steps[:*index+1] {
			if s.SetWeight != nil {
				w = *s.SetWeight
			}
		}
	}
	return &w
}

// replicaSets are the rollout's versions, newest revision first, each with its role.
func (c *Client) replicaSets(ctx context.Context, ro *rolloutObject, r *Rollout) ([]ReplicaSet, error) {
	list, err := c.Kube.AppsV1().ReplicaSets(ro.Metadata.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, apiErr(err, "list the replica sets of rollout "+ro.Metadata.Name)
	}
	var out []ReplicaSet
	for i := range list.Items {
		rs := &list.Items[i]
		if !ownedBy(rs.OwnerReferences, ro.Metadata.UID) {
			continue
		}
		out = append(out, replicaSetView(rs, r))
	}
	sort.Slice(out, func(i, j int) bool { return revisionLess(out[j].Revision, out[i].Revision) })
	return out, nil
}

func replicaSetView(rs *appsv1.ReplicaSet, r *Rollout) ReplicaSet {
	v := ReplicaSet{
		Name: rs.Name, Hash: rs.Labels[hashLabel], Revision: rs.Annotations["rollout.argoproj.io/revision"],
		Replicas: rs.Status.Replicas, Ready: rs.Status.ReadyReplicas, Available: rs.Status.AvailableReplicas,
	}
	for _, ct := range rs.Spec.Template.Spec.Containers {
		v.Images = append(v.Images, ct.Image)
	}
	switch {
	case v.Hash == r.StableHash:
		v.Role = "stable"
	case v.Hash == r.CurrentHash && r.Strategy == StrategyBlueGreen:
		v.Role = "preview"
	case v.Hash == r.CurrentHash:
		v.Role = "canary"
	default:
		v.Role = "old"
	}
	return v
}

func ownedBy(refs []metav1.OwnerReference, uid string) bool {
	for _, ref := range refs {
		if string(ref.UID) == uid {
			return true
		}
	}
	return false
}

// revisionLess compares revisions as numbers (10 after 9).
func revisionLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return x < y
}

// analysisRuns are the rollout's analysis runs, newest first.
func (c *Client) analysisRuns(ctx context.Context, ro *rolloutObject) ([]AnalysisRun, error) {
	list, err := c.Dynamic.Resource(AnalysisRunsResource).Namespace(ro.Metadata.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, apiErr(err, "list the analysis runs of rollout "+ro.Metadata.Name)
	}
	var out []AnalysisRun
	for i := range list.Items {
		if !ownedBy(list.Items[i].GetOwnerReferences(), ro.Metadata.UID) {
			continue
		}
		var ar analysisRunObject
		if err := decode(&list.Items[i], &ar); err != nil {
			return nil, fmt.Errorf("analysis run %s: %w", list.Items[i].GetName(), err)
		}
		out = append(out, analysisView(&ar))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

func analysisView(ar *analysisRunObject) AnalysisRun {
	v := AnalysisRun{
		Name: ar.Metadata.Name, Phase: ar.Status.Phase, Message: ar.Status.Message,
		Hash: ar.Metadata.Labels[hashLabel], Created: ar.Metadata.CreationTimestamp,
	}
	if v.Phase == "" {
		v.Phase = AnalysisPending
	}
	for _, m := range ar.Status.MetricResults {
		mv := Metric{Name: m.Name, Phase: m.Phase, Measurements: m.Count, Successful: m.Successful,
			Failed: m.Failed, Inconclusive: m.Inconclusive, Errors: m.Error, Message: m.Message}
		if n := len(m.Measurements); n > 0 {
			mv.Last = m.Measurements[n-1].Value
		}
		v.Metrics = append(v.Metrics, mv)
	}
	return v
}
