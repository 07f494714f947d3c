package stack

import (
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// renderKubeVersion is the Kubernetes version charts are rendered for without a
// cluster (footprint, pull): the version lab's labs default to.
var renderKubeVersion = chartutil.KubeVersion{Version: "v1.36.0", Major: "1", Minor: "36"}

// render renders a prepared chart without a cluster, as `helm template` does, and
// returns its manifest (hooks left out: they run once, not alongside the stack).
func render(pc preparedChart, namespace string) (string, error) {
	vals, err := copyValues(pc.values)
	if err != nil {
		return "", err
	}
	inst := action.NewInstall(&action.Configuration{Log: discardLog})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = pc.release, namespace
	kv := renderKubeVersion
	inst.KubeVersion = &kv
	rel, err := inst.Run(pc.chart.chart, vals)
	if err != nil {
		return "", fmt.Errorf("rendering chart %s: %w", pc.ref.Name, err)
	}
	return rel.Manifest, nil
}

// workload is a rendered object that runs pods: how many, and their spec.
type workload struct {
	kind, name string
	// replicas is the number of pods; perNode is true for DaemonSets (one per node).
	replicas int64
	perNode  bool
	pod      corev1.PodSpec
}

// workloads reads the pod-running objects of a manifest, Argo Rollouts' Rollouts
// included (the demo shop's backend can be one). Jobs and CronJobs are left out: their
// pods come and go, they do not hold resources alongside the stack.
func workloads(manifest string) ([]workload, error) {
	var out []workload
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			return nil, fmt.Errorf("reading rendered manifest: %w", err)
		}
		w := workload{kind: head.Kind, name: head.Metadata.Name, replicas: 1}
		switch head.Kind {
		case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Rollout":
			var obj struct {
				Spec struct {
					Replicas *int32 `json:"replicas"`
					Template struct {
						Spec corev1.PodSpec `json:"spec"`
					} `json:"template"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				return nil, fmt.Errorf("reading %s %s: %w", head.Kind, head.Metadata.Name, err)
			}
			if obj.Spec.Replicas != nil {
				w.replicas = int64(*obj.Spec.Replicas)
			}
			w.perNode = head.Kind == "DaemonSet"
			w.pod = obj.Spec.Template.Spec
		case "Pod":
			var obj struct {
				Spec corev1.PodSpec `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				return nil, fmt.Errorf("reading Pod %s: %w", head.Metadata.Name, err)
			}
			w.pod = obj.Spec
		default:
			continue
		}
		out = append(out, w)
	}
	return out, nil
}
