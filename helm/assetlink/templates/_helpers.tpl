{{/* Names and labels. */}}
{{- define "assetlink.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "assetlink.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "assetlink.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "assetlink.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component (api, worker, migrations): call with (list . "api"). */}}
{{- define "assetlink.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "assetlink.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "assetlink.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "assetlink.secretName" -}}
{{- default (include "assetlink.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "assetlink.sqlite" -}}
{{- if eq .Values.database.engine "sqlite" }}true{{ end }}
{{- end }}

{{/* The most API pods that can run at once: the HPA's maximum, or the fixed count. */}}
{{- define "assetlink.apiMaxReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.maxReplicas }}{{ else }}{{ .Values.api.replicas }}{{ end }}
{{- end }}

{{/* The fewest API pods that run: the HPA's minimum, or the fixed count. */}}
{{- define "assetlink.apiMinReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas }}{{ else }}{{ .Values.api.replicas }}{{ end }}
{{- end }}

{{/*
Refusals the schema cannot express. SQLite is one file that one process at a time writes
(docs/deploy.md): one API pod, no HPA above one, and no separate worker pod.
*/}}
{{- define "assetlink.validate" -}}
{{- if include "assetlink.sqlite" . }}
{{- if gt (int (include "assetlink.apiMaxReplicas" .)) 1 }}
{{- fail "database.engine is sqlite: SQLite serves one process, so run one API replica (api.replicas=1 and autoscaling.enabled=false or autoscaling.maxReplicas=1), or use PostgreSQL" }}
{{- end }}
{{- if gt (int .Values.worker.replicas) 0 }}
{{- fail "database.engine is sqlite: a worker pod cannot reach the API pod's SQLite file; set worker.replicas=0, or use PostgreSQL" }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas is above autoscaling.maxReplicas" }}
{{- end }}
{{- end }}

{{/* The settings every assetlink container gets: the ConfigMap's and the Secret's. */}}
{{- define "assetlink.env" -}}
- name: ASSETLINK_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "assetlink.secretName" . }}
      key: {{ .Values.secrets.databaseUrlKey }}
- name: ASSETLINK_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "assetlink.secretName" . }}
      key: {{ .Values.secrets.jwtSecretKey }}
      optional: true
- name: ASSETLINK_NOTIFY_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "assetlink.secretName" . }}
      key: {{ .Values.secrets.notifyApiKeyKey }}
      optional: true
{{- end }}

{{/* The settings written out (the migration hook runs before the ConfigMap exists). */}}
{{- define "assetlink.configEnv" -}}
{{- range $name, $value := .Values.config }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{- define "assetlink.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The SQLite file's folder (the image's working folder holds ./var/assetlink.db). */}}
{{- define "assetlink.sqliteVolume" -}}
- name: data
  {{- if .Values.database.sqlite.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.database.sqlite.existingClaim }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end }}
