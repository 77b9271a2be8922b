{{- define "credmon.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "credmon.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "credmon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "credmon.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "credmon.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "credmon.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "credmon.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "credmon.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Refuse combinations that cannot work, with the fix. */}}
{{- define "credmon.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (ne .Values.store.driver "redis") }}
{{- fail "replicaCount > 1 needs store.driver: redis: a bolt file belongs to one replica (set store.driver: redis and store.redis.url)" }}
{{- end }}
{{- if or (hasKey .Values.config "server") (hasKey .Values.config "store") }}
{{- fail "config.server and config.store are set by the chart: use the server.* and store.* values" }}
{{- end }}
{{- end }}

{{/* The part of credmon's configuration the chart owns: server and store. */}}
{{- define "credmon.deploymentConfig" -}}
server:
  listen: "0.0.0.0:{{ .Values.server.port }}"
  enable_reload_endpoint: {{ .Values.server.enableReloadEndpoint }}
  {{- if .Values.server.webConfigSecret }}
  web_config_file: /etc/credmon-web/web.yml
  {{- end }}
store:
  driver: {{ .Values.store.driver }}
  path: /var/lib/credmon/credmon.db
  {{- if eq .Values.store.driver "redis" }}
  # The buffer that carries a replica through a Redis outage; on an
  # emptyDir it survives a container restart, not the pod.
  fallback_path: /var/lib/credmon/fallback.db
  redis:
    url: {{ .Values.store.redis.url | quote }}
    key_prefix: {{ .Values.store.redis.keyPrefix | quote }}
    {{- with .Values.store.redis.passwordEnv }}
    password: {env: {{ . }}}
    {{- end }}
  {{- end }}
  {{- with .Values.store.encryptionKeyEnv }}
  encryption_key: {env: {{ . }}}
  {{- end }}
  {{- with .Values.store.fingerprintKeyEnv }}
  fingerprint_key: {env: {{ . }}}
  {{- end }}
{{- end }}
