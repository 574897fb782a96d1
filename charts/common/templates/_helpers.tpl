{{/*
Names, labels and the values both services derive in the same way. Every template takes the
service chart's root context (`.`).
*/}}

{{- define "common.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name when it already contains the chart name ("inventory"). */}}
{{- define "common.fullname" -}}
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

{{/* A name derived from the full name: (dict "root" . "suffix" "redis"). */}}
{{- define "common.childName" -}}
{{- $base := include "common.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base .suffix }}
{{- end }}

{{- define "common.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A value usable as a label value (≤ 63 characters, alphanumeric at both ends). */}}
{{- define "common.labelValue" -}}
{{- regexReplaceAll "[^A-Za-z0-9_.-]" (toString .) "_" | trunc 63 | trimAll "_.-" }}
{{- end }}

{{- define "common.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString }}
{{- end }}

{{- define "common.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "common.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "common.ddService" -}}
{{- .Values.datadog.service | default .Chart.Name }}
{{- end }}

{{- define "common.ddVersion" -}}
{{- include "common.labelValue" (.Values.datadog.version | default (include "common.imageTag" .)) }}
{{- end }}

{{/* Datadog's unified service tags, as labels (the pod reads them back into DD_ENV/DD_SERVICE/DD_VERSION). */}}
{{- define "common.datadogLabels" -}}
tags.datadoghq.com/env: {{ include "common.labelValue" .Values.datadog.env | quote }}
tags.datadoghq.com/service: {{ include "common.labelValue" (include "common.ddService" .) | quote }}
tags.datadoghq.com/version: {{ include "common.ddVersion" . | quote }}
{{- end }}

{{/* (dict "root" . "component" "service"): the labels that select one kind of pod of this release. */}}
{{- define "common.selectorLabels" -}}
app.kubernetes.io/name: {{ include "common.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "common.labels" -}}
helm.sh/chart: {{ include "common.chart" .root }}
{{ include "common.selectorLabels" . }}
app.kubernetes.io/version: {{ include "common.labelValue" (include "common.imageTag" .root) | quote }}
app.kubernetes.io/part-of: exactly-once-orders
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "common.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* URL of this release's own Service. */}}
{{- define "common.selfUrl" -}}
{{- printf "http://%s:%v" (include "common.fullname" .) (int .Values.service.port) }}
{{- end }}

{{/*
Redis: exactly one source. The schema already refuses none; this also refuses two, which the
schema cannot say as clearly.
*/}}
{{- define "common.redis.validate" -}}
{{- $r := .Values.redis }}
{{- $given := 0 }}
{{- if $r.url }}{{ $given = add1 $given }}{{ end }}
{{- if $r.existingSecret }}{{ $given = add1 $given }}{{ end }}
{{- if $r.bundled.enabled }}{{ $given = add1 $given }}{{ end }}
{{- if $r.sentinel.hosts }}{{ $given = add1 $given }}{{ end }}
{{- if ne (int $given) 1 }}
{{- fail "redis: set exactly one of redis.url, redis.existingSecret, redis.sentinel.hosts or redis.bundled.enabled=true" }}
{{- end }}
{{- if ge (int64 $r.waitTimeoutMs) (int64 $r.commandTimeoutMs) }}
{{- fail (printf "redis.waitTimeoutMs (%v) must be less than redis.commandTimeoutMs (%v)" $r.waitTimeoutMs $r.commandTimeoutMs) }}
{{- end }}
{{- if and $r.sentinel.passwordSecret (not $r.sentinel.hosts) }}
{{- fail "redis.sentinel.passwordSecret needs redis.sentinel.hosts (put the password in redis.url otherwise)" }}
{{- end }}
{{- end }}

{{/* REDIS_WAIT_REPLICAS: redis.waitReplicas, or 1 behind Sentinel and 0 otherwise. */}}
{{- define "common.redis.waitReplicas" -}}
{{- if not (kindIs "invalid" .Values.redis.waitReplicas) }}
{{- int64 .Values.redis.waitReplicas }}
{{- else if .Values.redis.sentinel.hosts }}1
{{- else }}0
{{- end }}
{{- end }}

{{- define "common.redis.secretName" -}}
{{- if .Values.redis.existingSecret }}
{{- .Values.redis.existingSecret }}
{{- else }}
{{- include "common.childName" (dict "root" . "suffix" "redis-url") }}
{{- end }}
{{- end }}

{{- define "common.redis.bundledUrl" -}}
{{- printf "redis://%s:6379" (include "common.childName" (dict "root" . "suffix" "redis")) }}
{{- end }}

{{/*
The Redis env entries: REDIS_URL (a plain value for the bundled Redis and for Sentinel, whose
password comes as REDIS_PASSWORD from its own Secret; else a Secret reference), and the WAIT settings.
*/}}
{{- define "common.redis.urlEnv" -}}
- name: REDIS_URL
{{- if .Values.redis.bundled.enabled }}
  value: {{ include "common.redis.bundledUrl" . | quote }}
{{- else if .Values.redis.sentinel.hosts }}
  value: {{ printf "redis+sentinel://%s/%s" (join "," .Values.redis.sentinel.hosts) .Values.redis.sentinel.masterName | quote }}
{{- with .Values.redis.sentinel.passwordSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.redis.sentinel.passwordSecretKey }}
{{- end }}
{{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ include "common.redis.secretName" . }}
      key: {{ if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}
- name: REDIS_WAIT_REPLICAS
  value: {{ include "common.redis.waitReplicas" . | quote }}
- name: REDIS_WAIT_TIMEOUT_MS
  value: {{ .Values.redis.waitTimeoutMs | int64 | quote }}
{{- end }}

{{/*
Seconds Kubernetes waits between SIGTERM and SIGKILL: the preStop sleep, the service's drain
deadline (config.SHUTDOWN_TIMEOUT_MS), the service's own force-exit margin after it, and 5 s of slack.
An explicit terminationGracePeriodSeconds below that would cut a drain short: refused.
*/}}
{{- define "common.terminationGracePeriodSeconds" -}}
{{- $drainMs := int64 (index .Values.config "SHUTDOWN_TIMEOUT_MS" | default 0) }}
{{- $exitMs := add $drainMs (int64 .Values.shutdown.forceExitAfterMs) }}
{{- $needed := add (int64 .Values.shutdown.preStopSleepSeconds) (div (add $exitMs 999) 1000) 5 }}
{{- $explicit := index .Values "terminationGracePeriodSeconds" }}
{{- if kindIs "invalid" $explicit }}
{{- $needed }}
{{- else if lt (int64 $explicit) (int64 $needed) }}
{{- fail (printf "terminationGracePeriodSeconds=%v does not cover the shutdown (preStop %vs + drain and exit %vms + 5s = %vs)" $explicit .Values.shutdown.preStopSleepSeconds $exitMs $needed) }}
{{- else }}
{{- int64 $explicit }}
{{- end }}
{{- end }}
