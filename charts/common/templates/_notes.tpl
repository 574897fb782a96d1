{{- define "common.notes" -}}
{{- $full := include "common.fullname" . -}}
{{ .Chart.Name }} {{ include "common.imageTag" . }} is deployed as {{ $full }} in namespace {{ .Release.Namespace }}
{{- if .Values.autoscaling.enabled }} ({{ .Values.autoscaling.minReplicas }}–{{ .Values.autoscaling.maxReplicas }} replicas, HPA).
{{- else }} ({{ .Values.replicaCount }} replica{{ if ne (int .Values.replicaCount) 1 }}s{{ end }}).
{{- end }}

Watch it become ready (readiness needs Redis):
  kubectl -n {{ .Release.Namespace }} rollout status deployment/{{ $full }}
  kubectl -n {{ .Release.Namespace }} get pods -l app.kubernetes.io/instance={{ .Release.Name }}

Reach it from your machine:
  kubectl -n {{ .Release.Namespace }} port-forward service/{{ $full }} {{ .Values.service.port }}:{{ .Values.service.port }}
  curl localhost:{{ .Values.service.port }}/health/ready

Redis:
{{- if .Values.redis.bundled.enabled }}
  The bundled single Redis ({{ include "common.childName" (dict "root" . "suffix" "redis") }}, AOF appendfsync {{ .Values.redis.bundled.appendfsync }}, PVC {{ .Values.redis.bundled.persistence.size }}).
  It is for trying the system out: no replication, no password. Point the other service's release at it:
    --set redis.url={{ include "common.redis.bundledUrl" . }}
{{- else if .Values.redis.sentinel.hosts }}
  Sentinel master {{ .Values.redis.sentinel.masterName }} via {{ join ", " .Values.redis.sentinel.hosts }}{{ with .Values.redis.sentinel.passwordSecret }} (password from Secret {{ . }}){{ end }}.
{{- else if .Values.redis.existingSecret }}
  URL from Secret {{ .Values.redis.existingSecret }}, key {{ .Values.redis.existingSecretKey }}.
{{- else }}
  URL from Secret {{ include "common.redis.secretName" . }} (from redis.url).
{{- end }}
  Writes are acknowledged after {{ include "common.redis.waitReplicas" . }} replica(s) confirm them (REDIS_WAIT_REPLICAS, within {{ .Values.redis.waitTimeoutMs }} ms).
{{- with .Values.redis.namespace }}
  Key namespace: {{ . }} (every service of this system needs the same redis.namespace).
{{- end }}

Datadog: {{ if .Values.datadog.enabled }}on — service {{ include "common.ddService" . }}, env {{ .Values.datadog.env }}, version {{ include "common.ddVersion" . }}; traces and DogStatsD to {{ if .Values.datadog.admissionController.enabled }}the address the admission controller injects{{ else if .Values.datadog.agentHost }}{{ .Values.datadog.agentHost }}{{ else }}the node's Agent (status.hostIP){{ end }}, logs by autodiscovery.{{ else }}off (DD_TRACE_ENABLED=false; logs still carry service/env/version).{{ end }}

{{- if .Values.tests.enabled }}

Check the whole system (needs both the order and the inventory release):
  helm test {{ .Release.Name }} -n {{ .Release.Namespace }} --logs
{{- end }}
{{- end }}
