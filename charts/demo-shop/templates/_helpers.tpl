{{/*
Labels of every object: the Kubernetes recommended labels
(https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
Called with a dict: ctx (the root context), name (the tier: frontend, backend, cache,
loadgen), component (its role) and image (the key under .Values.images whose tag is the
version), and optionally version, which replaces that tag (the backend as a Rollout).
Prometheus turns app.kubernetes.io/name into the app label that dashboards and the
HighHTTPErrorRatio alert group by.
*/}}
{{- define "demo-shop.labels" -}}
{{ include "demo-shop.selectorLabels" . }}
app.kubernetes.io/version: {{ get . "version" | default (index .ctx.Values.images .image).tag | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: {{ .ctx.Chart.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end }}

{{/*
Selector labels: the immutable subset Deployments and Services select pods by.
*/}}
{{- define "demo-shop.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end }}

{{/*
An image reference from an entry of .Values.images: repository:tag, plus @digest when
one is pinned.
*/}}
{{- define "demo-shop.image" -}}
{{- $ref := printf "%s:%s" .repository .tag -}}
{{- if .digest -}}{{- $ref = printf "%s@%s" $ref .digest -}}{{- end -}}
{{- $ref -}}
{{- end }}

{{/*
Pod-level settings shared by every tier. No tier talks to the Kubernetes API, so no
token is mounted. Service links are off: podinfo reads PODINFO_* variables as flags,
and a Service named podinfo would inject PODINFO_PORT=tcp://... into every pod.
*/}}
{{- define "demo-shop.podSpecCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- end }}

{{/*
The container securityContext shared by every container.
*/}}
{{- define "demo-shop.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/*
A podinfo tier (frontend or backend): Deployment and Service. Called with a dict: ctx,
tier (the key under .Values and the name of every object), component, and args (the
tier's own extra podinfo flags); the backend also passes rollout and version (its
values backend.rollout and backend.version).

With rollout.enabled the tier is an Argo Rollouts Rollout instead of a Deployment (same
pod template, the strategy of demo-shop.rolloutStrategy); its objects and pods are then
labelled with version instead of the image's tag, and its message ends with version,
so each version answers differently. A blueGreen Rollout also gets the Service
<tier>-preview. Without rollout.enabled the output is the Deployment it always was.
*/}}
{{- define "demo-shop.podinfo" -}}
{{- $ctx := .ctx -}}
{{- $v := index $ctx.Values .tier -}}
{{- $f := $v.faults -}}
{{- $ro := dict -}}
{{- with get . "rollout" -}}{{- if .enabled -}}{{- $ro = . -}}{{- end -}}{{- end -}}
{{- $message := $v.message -}}
{{- $labelArgs := dict "ctx" $ctx "name" .tier "component" .component "image" "podinfo" -}}
{{- if $ro -}}
{{- $message = printf "%s %s" $v.message .version -}}
{{- $_ := set $labelArgs "version" .version -}}
{{- end -}}
{{- $labels := include "demo-shop.labels" $labelArgs -}}
{{- /* A probe must outlast the longest injected delay, or --random-delay alone would
make the kubelet restart healthy pods. */ -}}
{{- $timeout := 6 -}}
{{- if and $f.delay (eq $f.delayUnit "s") -}}{{- $timeout = max 6 (add1 $f.delayMax) -}}{{- end -}}
{{ if $ro -}}
apiVersion: argoproj.io/v1alpha1
kind: Rollout
{{ else -}}
apiVersion: apps/v1
kind: Deployment
{{ end -}}
metadata:
  name: {{ .tier }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  {{- if $ro }}
  strategy:
    {{- include "demo-shop.rolloutStrategy" (dict "ctx" $ctx "tier" .tier "rollout" $ro) | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "demo-shop.selectorLabels" (dict "ctx" $ctx "name" .tier) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- $labels | nindent 8 }}
      annotations:
        # Scraped on podinfo's metrics port: it serves the same registry as the API
        # port but sits outside the fault-injection middleware, so injected errors and
        # delays never break scrapes.
        prometheus.io/scrape: "true"
        prometheus.io/port: "9797"
        prometheus.io/path: /metrics
    spec:
      {{- include "demo-shop.podSpecCommon" . | nindent 6 }}
      securityContext:
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: podinfo
          image: {{ include "demo-shop.image" $ctx.Values.images.podinfo | quote }}
          imagePullPolicy: {{ $ctx.Values.imagePullPolicy }}
          command:
            - ./podinfo
            - --port=9898
            - --port-metrics=9797
            - --level={{ $ctx.Values.logLevel }}
            - --data-path=/data
            - {{ printf "--ui-message=%s" $message | quote }}
            - {{ printf "--ui-color=%s" $v.color | quote }}
            {{- range .args }}
            - {{ . | quote }}
            {{- end }}
            {{- if $f.error }}
            - --random-error=true
            {{- end }}
            {{- if $f.delay }}
            - --random-delay=true
            - --random-delay-unit={{ $f.delayUnit }}
            - --random-delay-min={{ $f.delayMin }}
            - --random-delay-max={{ $f.delayMax }}
            {{- end }}
            {{- if $f.unready }}
            - --unready
            {{- end }}
            {{- if $f.unhealthy }}
            - --unhealthy
            {{- end }}
          ports:
            - name: http
              containerPort: 9898
              protocol: TCP
            - name: http-metrics
              containerPort: 9797
              protocol: TCP
          # Probes hit the API port, so the unready and unhealthy faults reach
          # Kubernetes. podinfo's random errors hit probes too (a third of them), so
          # the failure thresholds are high enough that --random-error alone almost
          # never flips readiness or restarts a pod.
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: {{ $timeout }}
            failureThreshold: 4
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 5
            periodSeconds: 10
            timeoutSeconds: {{ $timeout }}
            failureThreshold: 6
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "demo-shop.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: /data
      volumes:
        - name: data
          emptyDir:
            sizeLimit: 64Mi
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .tier }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "demo-shop.selectorLabels" (dict "ctx" $ctx "name" .tier) | nindent 4 }}
  ports:
    - name: http
      port: 9898
      targetPort: http
      protocol: TCP
    - name: http-metrics
      port: 9797
      targetPort: http-metrics
      protocol: TCP
{{- if $ro }}{{ if eq $ro.strategy "blueGreen" }}
---
# The blue/green preview: the controller points it at the new version's pods while
# the active Service ({{ .tier }}) still serves the old one, until promotion.
apiVersion: v1
kind: Service
metadata:
  name: {{ .tier }}-preview
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "demo-shop.selectorLabels" (dict "ctx" $ctx "name" .tier) | nindent 4 }}
  ports:
    - name: http
      port: 9898
      targetPort: http
      protocol: TCP
    - name: http-metrics
      port: 9797
      targetPort: http-metrics
      protocol: TCP
{{- end }}{{ end }}
{{- end }}

{{/*
The strategy of a tier's Rollout, from its rollout values. Called with a dict: ctx,
tier and rollout.
  canary     the steps as given (Argo Rollouts' own step syntax), without traffic
             routing: the weight is the share of pods behind the tier's Service.
  blueGreen  the tier's Service is the active one and <tier>-preview the preview;
             autoPromotionEnabled false waits for a promotion (lab delivery promote);
             the old version keeps running scaleDownDelaySeconds after it.
With rollout.analysis set, the named ClusterAnalysisTemplate scores the new version:
for canary as a background analysis over the whole rollout, from its first step; for
blueGreen after promotion, on live traffic (postPromotionAnalysis: a failure switches
back to the old version, still running until the analysis ends).
*/}}
{{- define "demo-shop.rolloutStrategy" -}}
{{- $ro := .rollout -}}
{{- if eq $ro.strategy "canary" -}}
canary:
  steps:
    {{- toYaml $ro.canarySteps | nindent 4 }}
  {{- if $ro.analysis }}
  analysis:
    {{- include "demo-shop.rolloutAnalysis" . | nindent 4 }}
  {{- end }}
{{- else -}}
blueGreen:
  activeService: {{ .tier }}
  previewService: {{ .tier }}-preview
  autoPromotionEnabled: {{ $ro.autoPromotionEnabled }}
  scaleDownDelaySeconds: {{ $ro.scaleDownDelaySeconds }}
  {{- if $ro.analysis }}
  postPromotionAnalysis:
    {{- include "demo-shop.rolloutAnalysis" . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
A Rollout's analysis: the ClusterAnalysisTemplate rollout.analysis (of stack delivery)
with the arguments those templates take: the namespace and app (the tier) whose series
to read, and the new version's pod-template hash.
*/}}
{{- define "demo-shop.rolloutAnalysis" -}}
templates:
  - templateName: {{ .rollout.analysis }}
    clusterScope: true
args:
  - name: namespace
    value: {{ .ctx.Release.Namespace | quote }}
  - name: app
    value: {{ .tier | quote }}
  - name: hash
    valueFrom:
      podTemplateHashValue: Latest
  {{- if and (eq .rollout.analysis "shop-success-rate") .rollout.analysisErrors }}
  - name: errors
    value: {{ .rollout.analysisErrors | quote }}
  {{- end }}
{{- end }}
