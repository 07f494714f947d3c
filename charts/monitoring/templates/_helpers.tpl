{{/*
Labels of every object: the Kubernetes recommended labels
(https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
Called with a dict: ctx (the root context), name (the application, e.g. prometheus),
component (its role in the stack) and image (the key under .Values.images whose tag is
the version).
*/}}
{{- define "monitoring.labels" -}}
{{ include "monitoring.selectorLabels" . }}
app.kubernetes.io/version: {{ (index .ctx.Values.images .image).tag | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: {{ .ctx.Chart.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end }}

{{/*
Selector labels: the immutable subset a Deployment, StatefulSet or DaemonSet selects
its pods by, and a Service its endpoints by. Version and chart stay out so upgrades
keep the same selector.
*/}}
{{- define "monitoring.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end }}

{{/*
An image reference from an entry of .Values.images: repository:tag, plus @digest when
one is pinned (the tag then only documents the version).
*/}}
{{- define "monitoring.image" -}}
{{- $ref := printf "%s:%s" .repository .tag -}}
{{- if .digest -}}{{- $ref = printf "%s@%s" $ref .digest -}}{{- end -}}
{{- $ref -}}
{{- end }}

{{/*
The container securityContext shared by every workload: nothing here needs privileges,
a writable root filesystem or extra capabilities.
*/}}
{{- define "monitoring.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/*
The pod securityContext for images that run as nobody (65534): their USER is a name,
so runAsNonRoot needs the numeric id spelled out.
*/}}
{{- define "monitoring.podSecurityContextNobody" -}}
runAsNonRoot: true
runAsUser: 65534
runAsGroup: 65534
fsGroup: 65534
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Names of cluster-scoped objects carry the release namespace: two labs' monitoring
releases on one adopted cluster must not fight over one ClusterRole.
*/}}
{{- define "monitoring.clusterName" -}}
{{- printf "%s-%s" .ctx.Release.Namespace .name | trunc 63 | trimSuffix "-" -}}
{{- end }}
