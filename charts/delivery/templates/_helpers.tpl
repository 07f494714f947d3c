{{/*
Labels of every object: the Kubernetes recommended labels
(https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
Called with a dict: ctx (the root context), name (the application: argo-rollouts,
argo-rollouts-dashboard, or an analysis template's name), component (its role in the
stack) and image (the key under .Values.images whose tag is the version).
*/}}
{{- define "delivery.labels" -}}
{{ include "delivery.selectorLabels" . }}
app.kubernetes.io/version: {{ (index .ctx.Values.images .image).tag | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: {{ .ctx.Chart.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end }}

{{/*
Selector labels: the immutable subset a Deployment selects its pods by, and a Service
its endpoints by.
*/}}
{{- define "delivery.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end }}

{{/*
An image reference from an entry of .Values.images: repository:tag, plus @digest when
one is pinned.
*/}}
{{- define "delivery.image" -}}
{{- $ref := printf "%s:%s" .repository .tag -}}
{{- if .digest -}}{{- $ref = printf "%s@%s" $ref .digest -}}{{- end -}}
{{- $ref -}}
{{- end }}

{{/*
The pod securityContext of both images: they run as user 999 (a numeric USER in
upstream's Dockerfile), spelled out so runAsNonRoot can be checked.
*/}}
{{- define "delivery.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 999
runAsGroup: 999
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The container securityContext shared by every container.
*/}}
{{- define "delivery.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/*
Names of cluster-scoped RBAC objects carry the release namespace, as in the monitoring
chart: argo-rollouts-controller and argo-rollouts-dashboard in lab's namespace.
*/}}
{{- define "delivery.clusterName" -}}
{{- printf "%s-%s" .ctx.Release.Namespace .name | trunc 63 | trimSuffix "-" -}}
{{- end }}
