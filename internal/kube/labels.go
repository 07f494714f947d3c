package kube

import corev1 "k8s.io/api/core/v1"

// LabLabel marks objects lab installed, with the lab's name as value: what lab removes
// from a cluster it adopted, and nothing else.
const LabLabel = "lab.cloudnativelab.io/lab"

// ChaosTargetLabel marks a namespace of lab's that holds practice workloads meant to be
// broken (the demo shop): chaos's guard rails protect lab's other namespaces, not these.
const ChaosTargetLabel = "lab.cloudnativelab.io/chaos-target"

// LabelNamespace marks a namespace as installed by lab for the lab name, so that `lab
// down` on an adopted cluster removes it. Installers call it on the namespaces they create.
func LabelNamespace(ns *corev1.Namespace, lab string) {
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[LabLabel] = lab
	ns.Labels["app.kubernetes.io/managed-by"] = "lab"
}
