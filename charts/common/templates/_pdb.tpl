{{/*
Voluntary disruptions (node drains, upgrades) take at most `maxUnavailable` replicas at a time. An
evicted inventory replica hands its in-flight orders back within SHUTDOWN_TIMEOUT_MS and the others
(or the backlog sweep) pick them up, so the budget is about capacity, not correctness.
*/}}
{{- define "common.podDisruptionBudget" -}}
{{- if .Values.podDisruptionBudget.enabled }}
{{- $sel := dict "root" . "component" "service" }}
{{- $pdb := .Values.podDisruptionBudget }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" $sel | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" (index $pdb "minAvailable")) }}
  {{- /* minAvailable, when given, takes precedence over the default maxUnavailable */}}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ index $pdb "maxUnavailable" | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "common.selectorLabels" $sel | nindent 6 }}
{{- end }}
{{- end }}
