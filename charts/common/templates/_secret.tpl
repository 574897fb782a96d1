{{/* The Secret holding redis.url (it may carry a password); not rendered for existingSecret or the bundled Redis. */}}
{{- define "common.redisUrlSecret" -}}
{{- if and .Values.redis.url (not .Values.redis.existingSecret) (not .Values.redis.bundled.enabled) }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "common.redis.secretName" . }}
  labels:
    {{- include "common.labels" (dict "root" . "component" "service") | nindent 4 }}
type: Opaque
data:
  redis-url: {{ .Values.redis.url | b64enc | quote }}
{{- end }}
{{- end }}
