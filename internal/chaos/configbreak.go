package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/cloudnativelab/lab/internal/errs"
)

// configBreak removes or corrupts one key of a ConfigMap or Secret and restarts the
// workloads that use it; the revert restores the saved value and restarts them again.
type configBreak struct{}

// corruptMarker is appended to half of the original value: the result is the kind of
// half-written file a broken deploy leaves, and easy to spot in `kubectl get -o yaml`.
const corruptMarker = "<<lab chaos: corrupted>>"

func (configBreak) Name() string { return "config-break" }
func (configBreak) Summary() string {
	return "corrupt or remove a ConfigMap or Secret key and restart its consumers; revert restores the saved original"
}
func (configBreak) Params() []string { return []string{"namespace", "target", "key", "mode"} }

func (f configBreak) Validate(p Params) ParamErrors {
	var errs ParamErrors
	checkAccepted(f.Name(), f.Params(), p, &errs)
	checkNamespace(p, &errs)
	checkRequired(p, &errs, "target", "key")
	checkTarget(p, &errs, "ConfigMap", "Secret")
	if p.Mode != "" && p.Mode != "corrupt" && p.Mode != "remove" {
		errs.add("mode", "must be corrupt or remove, got %q", p.Mode)
	}
	return errs
}

func (configBreak) Support(_ context.Context, env *Env) Support {
	if env.Lab.Simulated {
		return limited("on sim the key really changes and the consumers really restart, but no container reads it, so nothing fails because of it")
	}
	return supported()
}

type configData struct {
	Target ObjectRef `json:"target"`
	Key    string    `json:"key"`
	Mode   string    `json:"mode"`
	// Field is where the key lives: data or binaryData (ConfigMap), data (Secret).
	Field string `json:"field"`
	// Original is the saved value, kept only while the fault may need reverting: the
	// journal file is private (0600) because a Secret's value is in it, and Forget drops
	// it once the revert succeeded, leaving its size for the record.
	Original []byte `json:"original,omitempty"`
	// OriginalSize is the saved value's length in bytes, kept after the value is dropped.
	OriginalSize int `json:"originalSize"`
	// Forgotten says the value was dropped after the revert.
	Forgotten bool `json:"forgotten,omitempty"`
	// Consumers are the workloads restarted. They are restarted with lab's own template
	// annotation, which no template has before (a target already under a fault is
	// refused), so removing it restores each template exactly.
	Consumers []ObjectRef `json:"consumers"`
}

func (f configBreak) Plan(ctx context.Context, env *Env, p Params, lim Limits, _ *rand.Rand) (*Plan, error) {
	kind, name, _ := parseTarget(p.Target, "ConfigMap", "Secret")
	ref := ObjectRef{Kind: kind, Namespace: namespaceOr(p), Name: name}
	if err := guardNamespace(ctx, env, ref.Namespace, lim); err != nil {
		return nil, err
	}
	d := &configData{Target: ref, Key: p.Key, Mode: p.Mode}
	if d.Mode == "" {
		d.Mode = "corrupt"
	}
	if err := d.readOriginal(ctx, env); err != nil {
		return nil, err
	}
	consumers, err := consumersOf(ctx, env, ref)
	if err != nil {
		return nil, err
	}
	d.Consumers = consumers
	plan := &Plan{
		Fault:   f.Name(),
		Summary: fmt.Sprintf("%s key %q of %s and restart %d consumer(s)", d.verb(), d.Key, ref, len(consumers)),
		Changes: []Change{{Action: "edit", ObjectRef: ref, Detail: fmt.Sprintf("key %s: %sd", d.Key, d.Mode)}},
		Targets: append([]ObjectRef{ref}, consumers...),
		Watch:   consumers,
		data:    d,
	}
	for _, c := range consumers {
		plan.Changes = append(plan.Changes, Change{Action: "restart", ObjectRef: c, Detail: "pod template annotation " + AnnotationRestartedAt})
	}
	if len(consumers) == 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("no Deployment, StatefulSet or DaemonSet in %s uses %s: only the key changes", ref.Namespace, ref))
	}
	return plan, nil
}

func (d *configData) verb() string {
	if d.Mode == "remove" {
		return "remove"
	}
	return "corrupt"
}

// readOriginal saves the key's value, and where it lives.
func (d *configData) readOriginal(ctx context.Context, env *Env) error {
	core := env.Client.CoreV1()
	var keys []string
	if d.Target.Kind == "Secret" {
		s, err := core.Secrets(d.Target.Namespace).Get(ctx, d.Target.Name, metav1.GetOptions{})
		if err != nil {
			return targetError(d.Target, err)
		}
		if v, ok := s.Data[d.Key]; ok {
			d.Field, d.Original, d.OriginalSize = "data", v, len(v)
			return nil
		}
		keys = sortedKeys(s.Data)
	} else {
		cm, err := core.ConfigMaps(d.Target.Namespace).Get(ctx, d.Target.Name, metav1.GetOptions{})
		if err != nil {
			return targetError(d.Target, err)
		}
		if v, ok := cm.Data[d.Key]; ok {
			d.Field, d.Original, d.OriginalSize = "data", []byte(v), len(v)
			return nil
		}
		if v, ok := cm.BinaryData[d.Key]; ok {
			d.Field, d.Original, d.OriginalSize = "binaryData", v, len(v)
			return nil
		}
		keys = append(sortedKeys(cm.Data), sortedKeys(cm.BinaryData)...)
	}
	return atParam("key", errs.Invalidf("", "%s has no key %q (its keys: %s)", d.Target, d.Key, strings.Join(keys, ", ")))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// corrupted is half the value and a marker.
func (d *configData) corrupted() []byte {
	return append(append([]byte{}, d.Original[:len(d.Original)/2]...), corruptMarker...)
}

func (configBreak) Inject(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[configData](e)
	if err != nil {
		return err
	}
	var value []byte // nil removes the key
	if d.Mode == "corrupt" {
		value = d.corrupted()
	}
	if err := d.setKey(ctx, env, value); err != nil {
		return err
	}
	return restartConsumers(ctx, env, d.Consumers, env.Now().UTC().Format("2006-01-02T15:04:05Z"))
}

func (configBreak) Revert(ctx context.Context, env *Env, e *Entry) error {
	d, err := decodeData[configData](e)
	if err != nil {
		return err
	}
	if d.Forgotten {
		return nil // reverted already: the saved value is gone with its need
	}
	err = d.setKey(ctx, env, d.Original)
	if apierrors.IsNotFound(err) {
		env.Events.Warn(fmt.Sprintf("%s is gone: the saved value of %s was not restored", d.Target, d.Key))
		err = nil
	}
	if err != nil {
		return err
	}
	// Removing the annotation restores each template exactly; it also restarts the
	// consumers, which is what makes them read the restored value.
	return restartConsumers(ctx, env, d.Consumers, "")
}

// Forget drops the saved value once the revert succeeded: a reverted entry is a record,
// and a Secret's value has no business in it.
func (configBreak) Forget(e *Entry) error {
	d, err := decodeData[configData](e)
	if err != nil {
		return err
	}
	d.Original, d.Forgotten = nil, true
	return setData(e, d)
}

// setKey writes value under the key (nil removes it), unless it is already so.
func (d *configData) setKey(ctx context.Context, env *Env, value []byte) error {
	core := env.Client.CoreV1()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if d.Target.Kind == "Secret" {
			s, err := core.Secrets(d.Target.Namespace).Get(ctx, d.Target.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !putBytes(&s.Data, d.Key, value) {
				return nil
			}
			_, err = core.Secrets(d.Target.Namespace).Update(ctx, s, metav1.UpdateOptions{FieldManager: fieldManager})
			return err
		}
		cm, err := core.ConfigMaps(d.Target.Namespace).Get(ctx, d.Target.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		changed := false
		if d.Field == "binaryData" {
			changed = putBytes(&cm.BinaryData, d.Key, value)
		} else {
			changed = putString(&cm.Data, d.Key, value)
		}
		if !changed {
			return nil
		}
		_, err = core.ConfigMaps(d.Target.Namespace).Update(ctx, cm, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
}

// putBytes sets or (value nil) deletes a key, reporting whether anything changed.
func putBytes(m *map[string][]byte, key string, value []byte) bool {
	old, had := (*m)[key]
	if value == nil {
		delete(*m, key)
		return had
	}
	if had && string(old) == string(value) {
		return false
	}
	if *m == nil {
		*m = map[string][]byte{}
	}
	(*m)[key] = value
	return true
}

func putString(m *map[string]string, key string, value []byte) bool {
	old, had := (*m)[key]
	if value == nil {
		delete(*m, key)
		return had
	}
	if had && old == string(value) {
		return false
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = string(value)
	return true
}

// restartConsumers sets (or, with at == "", removes) the restart annotation of each
// consumer's pod template: a merge patch, so nothing else in the template changes.
func restartConsumers(ctx context.Context, env *Env, consumers []ObjectRef, at string) error {
	var value any = at
	if at == "" {
		value = nil
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{AnnotationRestartedAt: value}}}}})
	apps := env.Client.AppsV1()
	for _, c := range consumers {
		opts := metav1.PatchOptions{FieldManager: fieldManager}
		var err error
		switch c.Kind {
		case "Deployment":
			_, err = apps.Deployments(c.Namespace).Patch(ctx, c.Name, types.MergePatchType, patch, opts)
		case "StatefulSet":
			_, err = apps.StatefulSets(c.Namespace).Patch(ctx, c.Name, types.MergePatchType, patch, opts)
		case "DaemonSet":
			_, err = apps.DaemonSets(c.Namespace).Patch(ctx, c.Name, types.MergePatchType, patch, opts)
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("restarting %s: %w", c, err)
		}
	}
	return nil
}

// consumersOf lists the workloads of the namespace whose pod template uses the object:
// as a volume, a projected volume source, env valueFrom or envFrom.
func consumersOf(ctx context.Context, env *Env, ref ObjectRef) ([]ObjectRef, error) {
	apps := env.Client.AppsV1()
	var out []ObjectRef
	deps, err := apps.Deployments(ref.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range deps.Items {
		if usesObject(&d.Spec.Template.Spec, ref) {
			out = append(out, ObjectRef{Kind: "Deployment", Namespace: ref.Namespace, Name: d.Name})
		}
	}
	sts, err := apps.StatefulSets(ref.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, s := range sts.Items {
		if usesObject(&s.Spec.Template.Spec, ref) {
			out = append(out, ObjectRef{Kind: "StatefulSet", Namespace: ref.Namespace, Name: s.Name})
		}
	}
	dss, err := apps.DaemonSets(ref.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, ds := range dss.Items {
		if usesObject(&ds.Spec.Template.Spec, ref) {
			out = append(out, ObjectRef{Kind: "DaemonSet", Namespace: ref.Namespace, Name: ds.Name})
		}
	}
	return out, nil
}

// usesObject reports whether a pod spec refers to the ConfigMap or Secret.
func usesObject(spec *corev1.PodSpec, ref ObjectRef) bool {
	isCM := ref.Kind == "ConfigMap"
	for _, v := range spec.Volumes {
		if isCM && v.ConfigMap != nil && v.ConfigMap.Name == ref.Name || !isCM && v.Secret != nil && v.Secret.SecretName == ref.Name {
			return true
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if isCM && s.ConfigMap != nil && s.ConfigMap.Name == ref.Name || !isCM && s.Secret != nil && s.Secret.Name == ref.Name {
					return true
				}
			}
		}
	}
	containers := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		for _, ef := range c.EnvFrom {
			if isCM && ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == ref.Name || !isCM && ef.SecretRef != nil && ef.SecretRef.Name == ref.Name {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if isCM && e.ValueFrom.ConfigMapKeyRef != nil && e.ValueFrom.ConfigMapKeyRef.Name == ref.Name ||
				!isCM && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == ref.Name {
				return true
			}
		}
	}
	return false
}
