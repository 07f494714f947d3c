package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/kube"
	"github.com/cloudnativelab/lab/internal/spec"
)

func TestPodKillIsRepairedByTheReplicaSetController(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 3)
	before := podsOf(t, ns, "app=web")
	l := simLab(t)
	res, err := testEngine(nil).Run(context.Background(), l, RunOptions{
		Fault: "pod-kill", Params: params(spec.FaultParams{Namespace: ns, Selector: "app=web", Count: 2}, "namespace", "selector", "count"),
		Limits: Limits{MaxPods: 5, MaxPercent: 100}, RecoveryTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeData[podKillData](res.Entry)
	if err != nil || len(d.Rounds) != 1 || len(d.Rounds[0].Victims) != 2 {
		t.Fatalf("journal data = %+v, %v; want one round of 2 victims", d, err)
	}
	victims := map[types.UID]bool{}
	for _, v := range d.Rounds[0].Victims {
		victims[v.UID] = true
	}
	after := podsOf(t, ns, "app=web")
	ready := 0
	for _, p := range after {
		if victims[p.UID] {
			t.Errorf("victim %s still exists", p.Name)
		}
		if live(&p) && podReady(&p) {
			ready++
		}
	}
	if ready != 3 || len(before) != 3 {
		t.Fatalf("ready pods before %d, after %d; want 3 and 3", len(before), ready)
	}
	if res.Recovery == nil || *res.Recovery <= 0 {
		t.Fatalf("recovery = %v (%s), want a measured duration", res.Recovery, res.RecoveryError)
	}
	assertReverted(t, l, res.Entry.ID)
	if a := getDeployment(t, ns, "web").Annotations[AnnotationID]; a != "" {
		t.Errorf("deployment still annotated with %s", a)
	}
}

// TestInjectThenRevertRestoresTheSpec injects each fault that edits objects, checks the
// damage and the chaos annotations while it lasts, and compares the objects' specs
// before the fault and after the revert.
func TestInjectThenRevertRestoresTheSpec(t *testing.T) {
	t.Parallel()
	type objects struct{ deployment, config string }
	tests := []struct {
		name   string
		fault  string
		params func(ns string) Params
		setup  func(t *testing.T, ns string)
		broken func(t *testing.T, ns string)
		// annotated is the object carrying the chaos annotations while the fault lasts.
		annotated func(ns string) ObjectRef
	}{
		{
			name: "scale to zero", fault: "scale",
			params: func(ns string) Params {
				return params(spec.FaultParams{Namespace: ns, Target: "deployment/web", Replicas: ptr[int32](0)}, "namespace", "target", "replicas")
			},
			broken: func(t *testing.T, ns string) {
				if r := *getDeployment(t, ns, "web").Spec.Replicas; r != 0 {
					t.Errorf("replicas = %d while scaled, want 0", r)
				}
			},
			annotated: func(ns string) ObjectRef { return ObjectRef{Kind: "Deployment", Namespace: ns, Name: "web"} },
		},
		{
			name: "bad rollout to an unpullable image", fault: "bad-rollout",
			params: func(ns string) Params {
				return params(spec.FaultParams{Namespace: ns, Target: "deploy/web"}, "namespace", "target")
			},
			broken: func(t *testing.T, ns string) {
				d := getDeployment(t, ns, "web")
				if img := d.Spec.Template.Spec.Containers[0].Image; img != unpullableImage {
					t.Errorf("image = %s while broken", img)
				}
				waitRevision(t, ns, "2")
			},
			annotated: func(ns string) ObjectRef { return ObjectRef{Kind: "Deployment", Namespace: ns, Name: "web"} },
		},
		{
			name: "bad rollout to a crashing command", fault: "bad-rollout",
			params: func(ns string) Params {
				return params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Mode: "crash"}, "namespace", "target", "mode")
			},
			broken: func(t *testing.T, ns string) {
				if cmd := getDeployment(t, ns, "web").Spec.Template.Spec.Containers[0].Command; !slices.Equal(cmd, crashCommand) {
					t.Errorf("command = %q while broken", cmd)
				}
				waitRevision(t, ns, "2")
			},
			annotated: func(ns string) ObjectRef { return ObjectRef{Kind: "Deployment", Namespace: ns, Name: "web"} },
		},
		{
			name: "config-break corrupts a ConfigMap key", fault: "config-break",
			params: func(ns string) Params {
				return params(spec.FaultParams{Namespace: ns, Target: "configmap/web", Key: "app.yaml"}, "namespace", "target", "key")
			},
			setup: func(t *testing.T, ns string) { createConfig(t, ns, "ConfigMap") },
			broken: func(t *testing.T, ns string) {
				cm, _ := shared.Client.CoreV1().ConfigMaps(ns).Get(context.Background(), "web", metav1.GetOptions{})
				if v := cm.Data["app.yaml"]; !strings.HasSuffix(v, corruptMarker) {
					t.Errorf("value = %q while corrupted", v)
				}
				if getDeployment(t, ns, "web").Spec.Template.Annotations[AnnotationRestartedAt] == "" {
					t.Error("the consumer was not restarted")
				}
			},
			annotated: func(ns string) ObjectRef { return ObjectRef{Kind: "ConfigMap", Namespace: ns, Name: "web"} },
		},
		{
			name: "config-break removes a Secret key", fault: "config-break",
			params: func(ns string) Params {
				return params(spec.FaultParams{Namespace: ns, Target: "secret/web", Key: "app.yaml", Mode: "remove"}, "namespace", "target", "key", "mode")
			},
			setup: func(t *testing.T, ns string) { createConfig(t, ns, "Secret") },
			broken: func(t *testing.T, ns string) {
				s, _ := shared.Client.CoreV1().Secrets(ns).Get(context.Background(), "web", metav1.GetOptions{})
				if _, ok := s.Data["app.yaml"]; ok {
					t.Error("key still there while removed")
				}
			},
			annotated: func(ns string) ObjectRef { return ObjectRef{Kind: "Secret", Namespace: ns, Name: "web"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := namespace(t, nil)
			if tt.setup != nil {
				tt.setup(t, ns)
			}
			d := deploy(t, ns, "web", 3, usesConfig)
			beforeDeploy, beforeConfig := specJSON(t, d.Spec), configJSON(t, ns)
			revision := d.Annotations[revisionKey]

			e, l, ctx := testEngine(nil), simLab(t), context.Background()
			plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: tt.fault, Params: tt.params(ns), Limits: DefaultLimits})
			if err != nil {
				t.Fatal(err)
			}
			entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			tt.broken(t, ns)
			assertAnnotated(t, env, tt.annotated(ns), entry.ID)
			if onDisk, _ := (Journal{Dir: l.JournalDir}).Load(entry.ID); onDisk.Phase != Active {
				t.Errorf("journal phase = %s while injected, want active", onDisk.Phase)
			}
			if err := e.Stop(ctx, env, f, entry); err != nil {
				t.Fatal(err)
			}
			assertReverted(t, l, entry.ID)
			assertAnnotated(t, env, tt.annotated(ns), "")
			waitReady(t, ns, "web")
			after := getDeployment(t, ns, "web")
			if got := specJSON(t, after.Spec); got != beforeDeploy {
				t.Errorf("deployment spec after revert differs:\nbefore %s\nafter  %s", beforeDeploy, got)
			}
			if got := configJSON(t, ns); got != beforeConfig {
				t.Errorf("config after revert differs:\nbefore %s\nafter  %s", beforeConfig, got)
			}
			if tt.fault == "bad-rollout" && revision != "1" {
				t.Errorf("revision before the fault = %s, want 1", revision)
			}
			if tt.fault == "bad-rollout" {
				waitRevision(t, ns, "3") // rolling back makes revision 1's ReplicaSet revision 3
			}
		})
	}
}

// TestASecretsValueLeavesTheJournalWithTheFault: while a config-break of a Secret is
// active its journal entry holds the value (0600), which a revert after a crash needs;
// once reverted, no file of the journal holds it, plain or base64.
func TestASecretsValueLeavesTheJournalWithTheFault(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	b := make([]byte, 12)
	rand.Read(b)
	value := []byte("token-" + hex.EncodeToString(b))
	ctx := context.Background()
	_, err := shared.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Data: map[string][]byte{"password": value}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, l := testEngine(nil), simLab(t)
	plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: "config-break", Limits: DefaultLimits,
		Params: params(spec.FaultParams{Namespace: ns, Target: "secret/db", Key: "password"}, "namespace", "target", "key")})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(l.JournalDir, entry.ID+".json")
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("journal entry %s: %v, mode %v; want 0600", path, err, info.Mode())
	}
	if leaks := filesHolding(t, l.JournalDir, value); len(leaks) == 0 {
		t.Fatal("the active entry does not hold the value its revert needs")
	}
	if err := e.Stop(ctx, env, f, entry); err != nil {
		t.Fatal(err)
	}
	if s, _ := shared.Client.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{}); string(s.Data["password"]) != string(value) {
		t.Fatalf("the revert did not restore the value: %q", s.Data["password"])
	}
	if leaks := filesHolding(t, l.JournalDir, value); len(leaks) > 0 {
		t.Errorf("after the revert the journal still holds the Secret's value: %v", leaks)
	}
	onDisk, err := Journal{Dir: l.JournalDir}.Load(entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := decodeData[configData](onDisk)
	if onDisk.Phase != Reverted || !d.Forgotten || d.OriginalSize != len(value) || d.Key != "password" {
		t.Errorf("reverted entry: phase %s, record %+v", onDisk.Phase, d)
	}
	// Reverting again (a second `lab chaos revert`) must not touch the key it no longer
	// knows the value of.
	if err := f.Revert(ctx, env, onDisk); err != nil {
		t.Fatal(err)
	}
	if s, _ := shared.Client.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{}); string(s.Data["password"]) != string(value) {
		t.Fatalf("a second revert changed the value: %q", s.Data["password"])
	}
}

// filesHolding lists the files under dir holding value, as it is or base64-encoded.
func filesHolding(t *testing.T, dir string, value []byte) []string {
	t.Helper()
	forms := [][]byte{value, []byte(base64.StdEncoding.EncodeToString(value)), []byte(base64.RawStdEncoding.EncodeToString(value)),
		[]byte(base64.URLEncoding.EncodeToString(value))}
	var out []string
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, form := range forms {
			if bytes.Contains(data, form) {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// usesConfig makes the Deployment read ConfigMap and Secret "web" (optional, so that
// tests without them still run).
func usesConfig(d *appsv1.Deployment) {
	optional := true
	d.Spec.Template.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web"}, Optional: &optional}},
	}
	d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "secret", VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: "web", Optional: &optional}}}}
}

func createConfig(t *testing.T, ns, kind string) {
	t.Helper()
	ctx, meta := context.Background(), metav1.ObjectMeta{Name: "web", Namespace: ns}
	var err error
	if kind == "Secret" {
		_, err = shared.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: meta,
			Data: map[string][]byte{"app.yaml": []byte("password: s3cret\n"), "other": []byte("x")}}, metav1.CreateOptions{})
	} else {
		_, err = shared.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta,
			Data: map[string]string{"app.yaml": "level: info\nport: 8080\n", "other": "x"}}, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// configJSON is the data of the namespace's ConfigMap and Secret "web".
func configJSON(t *testing.T, ns string) string {
	ctx := context.Background()
	var data []any
	if cm, err := shared.Client.CoreV1().ConfigMaps(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
		data = append(data, cm.Data, cm.BinaryData)
	}
	if s, err := shared.Client.CoreV1().Secrets(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
		data = append(data, s.Data)
	}
	return specJSON(t, data)
}

func assertAnnotated(t *testing.T, env *Env, ref ObjectRef, wantID string) {
	t.Helper()
	id, err := activeFaultOn(context.Background(), env, ref)
	if err != nil {
		t.Fatal(err)
	}
	if id != wantID {
		t.Errorf("%s has %s=%q, want %q", ref, AnnotationID, id, wantID)
	}
}

func assertReverted(t *testing.T, l *Lab, id string) {
	t.Helper()
	e, err := Journal{Dir: l.JournalDir}.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if e.Phase != Reverted || e.RevertedAt == nil {
		t.Errorf("journal entry %s: phase %s, revertedAt %v; want reverted", id, e.Phase, e.RevertedAt)
	}
}

// TestDryRunChangesNothing plans each fault that can run on sim and checks that no
// object's resourceVersion moved and no journal entry was written.
func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	createConfig(t, ns, "ConfigMap")
	deploy(t, ns, "web", 3, usesConfig)
	worker := shared.Name + "-worker"
	tests := []struct {
		fault  string
		params Params
	}{
		{"pod-kill", params(spec.FaultParams{Namespace: ns, Selector: "app=web"}, "namespace", "selector")},
		{"scale", params(spec.FaultParams{Namespace: ns, Target: "deployment/web", Replicas: ptr[int32](1)}, "namespace", "target", "replicas")},
		{"bad-rollout", params(spec.FaultParams{Namespace: ns, Target: "deployment/web"}, "namespace", "target")},
		{"config-break", params(spec.FaultParams{Namespace: ns, Target: "configmap/web", Key: "app.yaml"}, "namespace", "target", "key")},
		{"node-drain", params(spec.FaultParams{Node: worker}, "node")},
		{"cpu-hog", params(spec.FaultParams{Namespace: ns, Target: "deployment/web"}, "namespace", "target")},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			before := resourceVersions(t, ns, worker)
			l := simLab(t)
			res, err := testEngine(nil).Run(context.Background(), l, RunOptions{Fault: tt.fault, Params: tt.params,
				Limits: Limits{MaxPods: 1000, MaxPercent: 100}, Duration: time.Minute, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Plan.Changes) == 0 || res.Entry != nil {
				t.Fatalf("plan lists no changes (%+v) or an entry was made (%+v)", res.Plan.Changes, res.Entry)
			}
			if after := resourceVersions(t, ns, worker); after != before {
				t.Errorf("resourceVersions moved:\nbefore %s\nafter  %s", before, after)
			}
			if entries, _ := os.ReadDir(l.JournalDir); len(entries) != 0 {
				t.Errorf("the dry run wrote to the journal: %v", entries)
			}
		})
	}
}

// resourceVersions of every object a fault could touch: the namespace's pods,
// Deployments, ReplicaSets, ConfigMaps, and the node.
func resourceVersions(t *testing.T, ns, node string) string {
	t.Helper()
	ctx, c := context.Background(), shared.Client
	var rvs []string
	pods, _ := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	for _, o := range pods.Items {
		rvs = append(rvs, "pod/"+o.Name+"="+o.ResourceVersion)
	}
	deps, _ := c.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	for _, o := range deps.Items {
		rvs = append(rvs, "deploy/"+o.Name+"="+o.ResourceVersion)
	}
	rss, _ := c.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	for _, o := range rss.Items {
		rvs = append(rvs, "rs/"+o.Name+"="+o.ResourceVersion)
	}
	cms, _ := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	for _, o := range cms.Items {
		rvs = append(rvs, "cm/"+o.Name+"="+o.ResourceVersion)
	}
	n, err := c.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A node's resourceVersion moves with every kwok heartbeat; its spec is what a
	// fault would change.
	rvs = append(rvs, "node/"+node+" unschedulable="+boolString(n.Spec.Unschedulable)+" annotated="+n.Annotations[AnnotationID])
	slices.Sort(rvs)
	if len(pods.Items) == 0 || len(deps.Items) == 0 {
		t.Fatal("nothing to compare")
	}
	return strings.Join(rvs, " ")
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestGuardRailsRefuse checks each refusal: it is invalid input (exit 2), says why,
// and changes nothing.
func TestGuardRailsRefuse(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	stackNS := namespace(t, map[string]string{labLabel: "other", managedByLabel: "lab"})
	deploy(t, ns, "web", 3)
	deploy(t, stackNS, "grafana", 1)
	adopted := simLab(t)
	adopted.Adopted, adopted.Simulated = true, false
	tests := []struct {
		name   string
		lab    func(t *testing.T) *Lab
		fault  string
		params Params
		limits Limits
		want   []string
	}{
		{name: "kube-system", fault: "pod-kill", params: params(spec.FaultParams{Namespace: "kube-system"}, "namespace"),
			want: []string{"namespace kube-system is protected", "--include-system"}},
		{name: "monitoring", fault: "scale", params: params(spec.FaultParams{Namespace: "monitoring", Target: "deploy/x", Replicas: ptr[int32](0)}, "namespace", "target", "replicas"),
			want: []string{"namespace monitoring is protected", "monitoring stack"}},
		{name: "a namespace of a lab stack", fault: "pod-kill", params: params(spec.FaultParams{Namespace: stackNS}, "namespace"),
			want: []string{"namespace " + stackNS + " is protected", "lab installed it"}},
		{name: "above the percent cap", fault: "pod-kill", params: params(spec.FaultParams{Namespace: ns, Count: 3}, "namespace", "count"),
			want: []string{"3 of the 3 pods in namespace " + ns + " (100%)", "cap of 50%", "--max-percent"}},
		{name: "above the pod cap", fault: "pod-kill", params: params(spec.FaultParams{Namespace: ns, Count: 3}, "namespace", "count"),
			limits: Limits{MaxPods: 2, MaxPercent: 100}, want: []string{"delete 3 pods, above the blast-radius cap of 2 pods", "--max-pods"}},
		{name: "scale-down above the pod cap", fault: "scale", params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](0)}, "namespace", "target", "replicas"),
			limits: Limits{MaxPods: 2, MaxPercent: 100}, want: []string{"remove 3 pods", "--max-pods"}},
		{name: "an adopted cluster without consent", lab: func(*testing.T) *Lab { return adopted }, fault: "scale",
			params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](0)}, "namespace", "target", "replicas"),
			want:   []string{"lab did not create that cluster", "explicit consent", "--allow-chaos"}},
		{name: "node-stop on sim", fault: "node-stop", params: params(spec.FaultParams{Node: shared.Name + "-worker"}, "node"),
			want: []string{"node-stop cannot run", "unsupported on sim", "kind only"}},
		{name: "node-pause on sim", fault: "node-pause", params: params(spec.FaultParams{Node: shared.Name + "-worker"}, "node"),
			want: []string{"unsupported on sim", "no node container to pause"}},
		{name: "http-delay without Istio", fault: "http-delay", params: params(spec.FaultParams{Namespace: ns, Target: "svc/web", Delay: time.Second}, "namespace", "target", "delay"),
			want: []string{"Istio is not installed", "VirtualService"}},
		{name: "a parameter the fault does not read", fault: "scale", params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](0), Count: 2}, "namespace", "target", "replicas", "count"),
			want: []string{"--count: does not apply to scale"}},
		{name: "scale beyond the nodes' pod slots", fault: "scale", params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](100000)}, "namespace", "target", "replicas"),
			want: []string{"scale would add 99997 pods to " + ns + "/deployment/web (3 -> 100000 replicas), more than the", "free pod slots of the lab's", "--beyond-capacity"}},
		{name: "a cpu-hog beyond its node", fault: "cpu-hog", params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", CPU: "1000"}, "namespace", "target", "cpu"),
			want: []string{"the hog would use up to 1k CPU, more than the 8 allocatable on node", "--beyond-capacity"}},
		{name: "a memory-hog beyond its node", fault: "memory-hog", params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Memory: "10Ti"}, "namespace", "target", "memory"),
			want: []string{"the hog would use up to 10Ti memory, more than the 16Gi allocatable on node", "--beyond-capacity"}},
		{name: "a target that does not exist", fault: "scale", params: params(spec.FaultParams{Namespace: ns, Target: "deploy/nope", Replicas: ptr[int32](0)}, "namespace", "target", "replicas"),
			want: []string{"deployment/nope does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.limits.MaxPods == 0 {
				tt.limits = DefaultLimits
			}
			l := simLab(t)
			if tt.lab != nil {
				l = tt.lab(t)
			}
			before := podsOf(t, ns, "app=web")
			_, err := testEngine(nil).Run(context.Background(), l, RunOptions{Fault: tt.fault, Params: tt.params, Limits: tt.limits, Duration: time.Minute})
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("err = %v (kind %v), want invalid input", err, errs.KindOf(err))
			}
			text := err.Error() + " " + errs.HintOf(err)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("error %q does not say %q", text, w)
				}
			}
			if after := podsOf(t, ns, "app=web"); len(after) != len(before) || after[0].UID != before[0].UID {
				t.Error("a refused fault changed the pods")
			}
			if entries, _ := os.ReadDir(l.JournalDir); len(entries) != 0 {
				t.Errorf("a refused fault wrote to the journal: %v", entries)
			}
		})
	}
}

func TestAConsentedAdoptedClusterIsAllowed(t *testing.T) {
	t.Parallel()
	l := simLab(t)
	l.Adopted, l.Simulated, l.AllowChaos = true, false, true
	faults, err := testEngine(nil).List(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Support{}
	for _, f := range faults {
		got[f.Name] = f.Support
	}
	if got["pod-kill"].Level != Supported || got["bad-rollout"].Level != Supported {
		t.Errorf("pod-kill %+v, bad-rollout %+v on a consented real cluster; want yes", got["pod-kill"], got["bad-rollout"])
	}
	if got["node-stop"].Level != Unsupported || !strings.Contains(got["node-stop"].Reason, "did not create") {
		t.Errorf("node-stop on an adopted cluster: %+v", got["node-stop"])
	}
}

func TestListOnSimSaysWhatIsLimited(t *testing.T) {
	t.Parallel()
	faults, err := testEngine(nil).List(context.Background(), simLab(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]SupportLevel{"pod-kill": Supported, "scale": Supported, "node-drain": Supported,
		"bad-rollout": Limited, "config-break": Limited, "cpu-hog": Limited, "memory-hog": Limited,
		"node-stop": Unsupported, "node-pause": Unsupported, "http-delay": Unsupported, "http-abort": Unsupported}
	if len(faults) != len(want) {
		t.Fatalf("%d faults listed, want %d", len(faults), len(want))
	}
	for _, f := range faults {
		if f.Support.Level != want[f.Name] {
			t.Errorf("%s: %+v, want %s", f.Name, f.Support, want[f.Name])
		}
		if f.Support.Level != Supported && f.Support.Reason == "" {
			t.Errorf("%s is %s without a reason", f.Name, f.Support.Level)
		}
	}
}

func TestNodeDrainRespectsPodDisruptionBudgetsAndUncordons(t *testing.T) {
	t.Parallel()
	pdbRetryFor = 3 * time.Second
	node := addNode(t)
	ns := namespace(t, nil)
	deploy(t, ns, "web", 3, onNode(node))
	createPDB(t, ns, "web", 2)
	waitPDBAllows(t, ns, "web", 1)
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: "node-drain", Params: params(spec.FaultParams{Node: node}, "node"), Limits: Limits{MaxPods: 10, MaxPercent: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if n := countChanges(plan, "evict"); n != 3 {
		t.Fatalf("plan evicts %d pods, want 3: %+v", n, plan.Changes)
	}
	entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := decodeData[drainData](entry)
	if len(d.Blocked) != 2 {
		t.Errorf("%d pods kept by the budget, want 2 (minAvailable 2 of 3): %+v", len(d.Blocked), d.Blocked)
	}
	if n := getNode(t, node); !n.Spec.Unschedulable || n.Annotations[AnnotationID] != entry.ID {
		t.Fatalf("node during the drain: unschedulable %v, annotations %v", n.Spec.Unschedulable, n.Annotations)
	}
	if err := e.Stop(ctx, env, f, entry); err != nil {
		t.Fatal(err)
	}
	if n := getNode(t, node); n.Spec.Unschedulable || n.Annotations[AnnotationID] != "" {
		t.Fatalf("node after revert: unschedulable %v, annotations %v", n.Spec.Unschedulable, n.Annotations)
	}
	waitReady(t, ns, "web") // the evicted pod's replacement schedules once uncordoned
}

// addNode registers one more kwok node, labelled so that only this test's pods land on it.
func addNode(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	name := "chaos-drain-" + hex.EncodeToString(b)
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": name, "chaos-test": name}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "chaos-test", Value: name, Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resourceQ("8"), corev1.ResourceMemory: resourceQ("16Gi"), corev1.ResourcePods: resourceQ("110")},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resourceQ("8"), corev1.ResourceMemory: resourceQ("16Gi"), corev1.ResourcePods: resourceQ("110")},
		},
	}
	ctx := context.Background()
	if _, err := shared.Client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	env := &Env{Client: shared.Client}
	if err := waitHealthy(ctx, env, []ObjectRef{{Kind: "Node", Name: name}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	return name
}

func onNode(node string) deployOpt {
	return func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.NodeSelector = map[string]string{"chaos-test": node}
		d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "chaos-test", Operator: corev1.TolerationOpEqual, Value: node, Effect: corev1.TaintEffectNoSchedule}}
	}
}

func getNode(t *testing.T, name string) *corev1.Node {
	t.Helper()
	n, err := shared.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countChanges(p *Plan, action string) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == action {
			n++
		}
	}
	return n
}

func TestCPUHogRunsNextToTheTargetAndGoes(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 2)
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: "cpu-hog", Params: params(spec.FaultParams{Namespace: ns, Selector: "app=web", CPU: "500m"}, "namespace", "selector", "cpu"), Limits: DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := decodeData[hogData](entry)
	hog, err := shared.Client.CoreV1().Pods(ns).Get(ctx, d.Pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := shared.Client.CoreV1().Pods(ns).Get(ctx, d.NextTo, metav1.GetOptions{})
	limit := hog.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]
	if hog.Spec.NodeName != next.Spec.NodeName || limit.String() != "500m" || hog.Spec.ActiveDeadlineSeconds == nil {
		t.Fatalf("hog on %s next to %s on %s, cpu limit %s, deadline %v", hog.Spec.NodeName, next.Name, next.Spec.NodeName, limit.String(), hog.Spec.ActiveDeadlineSeconds)
	}
	if err := e.Stop(ctx, env, f, entry); err != nil {
		t.Fatal(err)
	}
	if p, err := shared.Client.CoreV1().Pods(ns).Get(ctx, d.Pod, metav1.GetOptions{}); err == nil && p.DeletionTimestamp == nil {
		t.Fatal("the hog pod is still there after the revert")
	}
}

// TestCapacityCapsAllowWhatFitsAndWhatIsMeant: growth within the nodes' room plans, and
// --beyond-capacity lifts the caps (planned only: nothing of that size is injected).
func TestCapacityCapsAllowWhatFitsAndWhatIsMeant(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 3)
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	beyond := DefaultLimits
	beyond.BeyondCapacity = true
	tests := []struct {
		name   string
		fault  string
		params Params
		limits Limits
	}{
		{"scale up within the free slots", "scale", params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](5)}, "namespace", "target", "replicas"), DefaultLimits},
		{"scale beyond on purpose", "scale", params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](100000)}, "namespace", "target", "replicas"), beyond},
		{"a cpu-hog of the whole node", "cpu-hog", params(spec.FaultParams{Namespace: ns, Target: "deploy/web", CPU: "8"}, "namespace", "target", "cpu"), DefaultLimits},
		{"a memory-hog beyond on purpose", "memory-hog", params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Memory: "10Ti"}, "namespace", "target", "memory"), beyond},
	}
	for _, tt := range tests {
		if _, _, _, err := e.Plan(ctx, l, RunOptions{Fault: tt.fault, Params: tt.params, Limits: tt.limits}); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	env, err := e.env(l)
	if err != nil {
		t.Fatal(err)
	}
	room, err := roomForPods(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// kwok nodes of a sim lab report 110 allocatable pods each; the tainted control
	// plane, if any, does not count.
	if room.Nodes < 1 || room.Allocatable != 110*int64(room.Nodes) || room.Used < 3 {
		t.Errorf("room = %+v, want 110 pods a schedulable node and at least web's 3 in use", room)
	}
}

func TestSeedReplaysTheSameVictims(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 6)
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	victims := func(seed int64) []string {
		p := params(spec.FaultParams{Namespace: ns, Selector: "app=web", Count: 2, Seed: &seed}, "namespace", "selector", "count", "seed")
		plan, _, _, err := e.Plan(ctx, l, RunOptions{Fault: "pod-kill", Params: p, Limits: Limits{MaxPods: 10, MaxPercent: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Seed == nil || *plan.Seed != seed {
			t.Fatalf("plan seed %v, want %d", plan.Seed, seed)
		}
		var names []string
		for _, c := range plan.Changes {
			if c.Action == "delete" {
				names = append(names, c.Name)
			}
		}
		return names
	}
	first, again := victims(42), victims(42)
	if !slices.Equal(first, again) || len(first) != 2 {
		t.Fatalf("seed 42 chose %v, then %v", first, again)
	}
	differs := false
	for seed := int64(1); seed <= 5 && !differs; seed++ {
		differs = !slices.Equal(victims(seed), first)
	}
	if !differs {
		t.Error("seeds 1 to 5 all chose what seed 42 chose: the seed is not used")
	}
}

func TestPodKillEveryIntervalKillsAgain(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 4)
	l := simLab(t)
	res, err := testEngine(nil).Run(context.Background(), l, RunOptions{Fault: "pod-kill",
		Params:   params(spec.FaultParams{Namespace: ns, Selector: "app=web", Interval: time.Second}, "namespace", "selector", "interval"),
		Limits:   DefaultLimits,
		Duration: 3500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	onDisk, _ := Journal{Dir: l.JournalDir}.Load(res.Entry.ID)
	d, _ := decodeData[podKillData](onDisk)
	if len(d.Rounds) < 3 {
		t.Fatalf("%d rounds of kills in 3.5s at 1s intervals, want at least 3", len(d.Rounds))
	}
	seen := map[types.UID]bool{}
	for _, r := range d.Rounds {
		for _, v := range r.Victims {
			if seen[v.UID] {
				t.Errorf("pod %s killed twice", v.Name)
			}
			seen[v.UID] = true
		}
	}
}

func TestInterruptRevertsAtOnce(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	before := specJSON(t, deploy(t, ns, "web", 3).Spec)
	l := simLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &event.Recorder{}
	go func() {
		for !hasEvent(rec, event.Info, "holding") {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	// The fault lasts 10m: returning interrupted, with the spec restored, is the revert
	// at the interrupt.
	_, err := testEngine(rec).Run(ctx, l, RunOptions{Fault: "scale",
		Params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](1)}, "namespace", "target", "replicas"),
		Limits: DefaultLimits, Duration: 10 * time.Minute})
	if errs.KindOf(err) != errs.Interrupted || !strings.Contains(err.Error(), "reverted") {
		t.Fatalf("err = %v, want interrupted and reverted", err)
	}
	if after := specJSON(t, getDeployment(t, ns, "web").Spec); after != before {
		t.Errorf("spec after interrupt:\nbefore %s\nafter  %s", before, after)
	}
}

func hasEvent(rec *event.Recorder, typ event.Type, text string) bool {
	for _, e := range rec.Events() {
		if e.Type == typ && strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

func TestRevertIsIdempotentAndAFailingRevertStaysActive(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 2)
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	plan, env, f, err := e.Plan(ctx, l, RunOptions{Fault: "scale",
		Params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](0)}, "namespace", "target", "replicas"), Limits: DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	// The same lab with an API server that does not answer: every attempt fails.
	dead := *l
	dead.Kubeconfig = unreachableKubeconfig(t)
	out, err := e.Revert(ctx, &dead, []string{entry.ID}, false)
	if errs.KindOf(err) != errs.Unavailable || len(out) != 1 || out[0].Result != "failed" {
		t.Fatalf("revert against a dead server: %+v, %v", out, err)
	}
	stuck, _ := Journal{Dir: l.JournalDir}.Load(entry.ID)
	if stuck.Phase != Active || stuck.RevertAttempts != 3 || stuck.RevertError == "" {
		t.Fatalf("after a failed revert: phase %s, attempts %d, error %q; want active, 3, an error", stuck.Phase, stuck.RevertAttempts, stuck.RevertError)
	}
	if active, _ := e.Status(l); len(active) != 1 || !strings.Contains(active[0].Note, "revert failed 3 time(s)") {
		t.Fatalf("status after a failed revert: %+v", active)
	}

	out, err = e.Revert(ctx, l, nil, true)
	if err != nil || len(out) != 1 || out[0].Result != "reverted" {
		t.Fatalf("revert --all: %+v, %v", out, err)
	}
	if r := *getDeployment(t, ns, "web").Spec.Replicas; r != 2 {
		t.Fatalf("replicas after revert = %d, want 2", r)
	}
	out, err = e.Revert(ctx, l, []string{entry.ID}, false)
	if err != nil || len(out) != 1 || out[0].Result != "already reverted" {
		t.Fatalf("second revert: %+v, %v", out, err)
	}
	if _, err := e.Revert(ctx, l, []string{"scale-000000"}, false); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("revert of an unknown id: %v, want invalid input", err)
	}
}

func unreachableKubeconfig(t *testing.T) []byte {
	t.Helper()
	return []byte(`apiVersion: v1
kind: Config
clusters: [{name: dead, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: dead, user: {token: x}}]
contexts: [{name: dead, context: {cluster: dead, user: dead}}]
current-context: dead
`)
}

func TestASecondFaultOnTheSameTargetIsRefused(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 2)
	e, l, ctx := testEngine(nil), simLab(t), context.Background()
	opts := RunOptions{Fault: "scale", Params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](0)}, "namespace", "target", "replicas"), Limits: DefaultLimits}
	plan, env, f, err := e.Plan(ctx, l, opts)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := e.Start(ctx, env, f, plan, RunOptions{Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop(ctx, env, f, entry)
	_, _, _, err = e.Plan(ctx, l, RunOptions{Fault: "bad-rollout", Params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web"}, "namespace", "target"), Limits: DefaultLimits})
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "already under fault "+entry.ID) {
		t.Fatalf("second fault: %v", err)
	}
}

func TestJournalEntryIsWrittenBeforeTheClusterIsTouched(t *testing.T) {
	t.Parallel()
	ns := namespace(t, nil)
	deploy(t, ns, "web", 2)
	l := simLab(t)
	// The recorder sees the "Injecting" step start before any change is made; at that
	// moment the entry must be on disk, pending, with its revert record.
	rec := &checkOnStart{t: t, dir: l.JournalDir, ns: ns}
	e := testEngine(nil)
	e.Events = event.NewEmitter(rec)
	_, err := e.Run(context.Background(), l, RunOptions{Fault: "scale",
		Params: params(spec.FaultParams{Namespace: ns, Target: "deploy/web", Replicas: ptr[int32](1)}, "namespace", "target", "replicas"), Limits: DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.checked {
		t.Fatal("no Injecting step was seen")
	}
}

type checkOnStart struct {
	t       *testing.T
	dir, ns string
	checked bool
}

func (c *checkOnStart) Emit(e event.Event) {
	if e.Type != event.StepStart || !strings.HasPrefix(e.Step, "Injecting ") {
		return
	}
	c.checked = true
	id := strings.TrimSuffix(strings.Fields(e.Step)[1], ":")
	entry, err := Journal{Dir: c.dir}.Load(id)
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		c.t.Errorf("no journal entry %s when the injection starts: %v", id, err)
		return
	}
	d, _ := decodeData[scaleData](entry)
	if entry.Phase != Pending || d.Original != 2 {
		c.t.Errorf("entry at injection start: phase %s, original replicas %d; want pending, 2", entry.Phase, d.Original)
	}
	if r := *getDeployment(c.t, c.ns, "web").Spec.Replicas; r != 2 {
		c.t.Errorf("the cluster changed before the injection step: replicas %d", r)
	}
	if info, err := os.Stat(Journal{Dir: c.dir}.path(id)); err != nil || info.Mode().Perm() != 0o600 {
		c.t.Errorf("journal file mode %v, %v; want 0600", info.Mode(), err)
	}
}

func resourceQ(s string) resource.Quantity { return resource.MustParse(s) }

func createPDB(t *testing.T, ns, app string, minAvailable int) {
	t.Helper()
	min := intstr.FromInt32(int32(minAvailable))
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &min,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
	if _, err := shared.Client.PolicyV1().PodDisruptionBudgets(ns).Create(context.Background(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitPDBAllows waits until the disruption controller has computed the budget.
func waitPDBAllows(t *testing.T, ns, name string, allowed int32) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pdb, err := shared.Client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && pdb.Status.ObservedGeneration >= pdb.Generation && pdb.Status.DisruptionsAllowed == allowed, nil
	})
	if err != nil {
		t.Fatalf("PodDisruptionBudget %s never allowed %d disruptions", name, allowed)
	}
}

// waitRevision waits until the Deployment controller has rolled out revision want.
func waitRevision(t *testing.T, ns, want string) {
	t.Helper()
	var got string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got = getDeployment(t, ns, "web").Annotations[revisionKey]
		return got == want, nil
	})
	if err != nil {
		t.Fatalf("deployment revision is %s, want %s", got, want)
	}
}

// The demo shop's namespace is lab's too, but it is labelled as a chaos target: breaking
// it is what trainees practise, so the guard rails let chaos act there.
func TestChaosTargetNamespaceIsNotProtected(t *testing.T) {
	t.Parallel()
	shop := namespace(t, map[string]string{labLabel: "chaos-test", managedByLabel: "lab", kube.ChaosTargetLabel: "true"})
	deploy(t, shop, "backend", 2)
	res, err := testEngine(nil).Run(context.Background(), simLab(t), RunOptions{
		Fault: "scale", Params: params(spec.FaultParams{Namespace: shop, Target: "deploy/backend", Replicas: ptr[int32](1)}, "namespace", "target", "replicas"),
		Limits: DefaultLimits, Duration: time.Second,
	})
	if err != nil {
		t.Fatalf("scale in a chaos-target namespace: %v", err)
	}
	if res == nil {
		t.Fatal("no result")
	}
}
