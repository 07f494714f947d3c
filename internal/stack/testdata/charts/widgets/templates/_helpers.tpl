{{- define "widgets.selector" -}}
app.kubernetes.io/name: widgets
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
