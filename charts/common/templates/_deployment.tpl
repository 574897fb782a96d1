{{/*
The service's Deployment. Environment, in order: Redis, the pod's identity, Datadog, the service's
own `config`, then `extraEnv` (a later entry with the same name wins in Kubernetes).
*/}}
{{- define "common.deployment" -}}
{{- include "common.redis.validate" . }}
{{- $sel := dict "root" . "component" "service" }}
{{- $name := .Chart.Name }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" $sel | nindent 4 }}
    {{- include "common.datadogLabels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "common.selectorLabels" $sel | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "common.selectorLabels" $sel | nindent 8 }}
        {{- include "common.datadogLabels" . | nindent 8 }}
        {{- if and .Values.datadog.enabled .Values.datadog.admissionController.enabled }}
        admission.datadoghq.com/enabled: "true"
        {{- end }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- if .Values.redis.url }}
        checksum/redis-url: {{ .Values.redis.url | sha256sum | trunc 16 }}
        {{- end }}
        {{- if .Values.datadog.enabled }}
        ad.datadoghq.com/{{ $name }}.logs: {{ list (dict "source" .Values.datadog.logSource "service" (include "common.ddService" .)) | toJson | quote }}
        {{- if and .Values.datadog.admissionController.enabled .Values.datadog.admissionController.configMode }}
        admission.datadoghq.com/config.mode: {{ .Values.datadog.admissionController.configMode | quote }}
        {{- end }}
        {{- end }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "common.serviceAccountName" . }}
      # The services never call the Kubernetes API.
      automountServiceAccountToken: false
      # No docker-link variables (ORDER_PORT, REDIS_PORT…) from other Services in the namespace.
      enableServiceLinks: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "common.terminationGracePeriodSeconds" . }}
      containers:
        - name: {{ $name }}
          image: {{ include "common.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          # The image's CMD, spelled out: the deploy tests run exactly this against the built services.
          args:
            {{- toYaml .Values.args | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ .Values.containerPort }}
              protocol: TCP
          env:
            {{- include "common.redis.urlEnv" . | nindent 12 }}
            {{- with .Values.redis.namespace }}
            - name: REDIS_NAMESPACE
              value: {{ . | quote }}
            {{- end }}
            - name: REDIS_COMMAND_TIMEOUT_MS
              value: {{ .Values.redis.commandTimeoutMs | int64 | quote }}
            - name: PORT
              value: {{ .Values.containerPort | int64 | quote }}
            # The pod name: shown as `replica` in logs and stored as the order's processedBy.
            - name: REPLICA_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: LOG_LEVEL
              value: {{ .Values.logLevel | quote }}
            - name: DD_ENV
              valueFrom:
                fieldRef:
                  fieldPath: metadata.labels['tags.datadoghq.com/env']
            - name: DD_SERVICE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.labels['tags.datadoghq.com/service']
            - name: DD_VERSION
              valueFrom:
                fieldRef:
                  fieldPath: metadata.labels['tags.datadoghq.com/version']
            {{- if .Values.datadog.enabled }}
            - name: DD_TRACE_ENABLED
              value: "true"
            {{- if not .Values.datadog.admissionController.enabled }}
            - name: DD_AGENT_HOST
              {{- if .Values.datadog.agentHost }}
              value: {{ .Values.datadog.agentHost | quote }}
              {{- else }}
              valueFrom:
                fieldRef:
                  fieldPath: status.hostIP
              {{- end }}
            {{- end }}
            - name: DD_TRACE_AGENT_PORT
              value: {{ .Values.datadog.traceAgentPort | int64 | quote }}
            - name: DD_DOGSTATSD_PORT
              value: {{ .Values.datadog.dogstatsdPort | int64 | quote }}
            # Origin detection: the Agent tags this pod's metrics with its Kubernetes tags.
            - name: DD_ENTITY_ID
              valueFrom:
                fieldRef:
                  fieldPath: metadata.uid
            {{- else }}
            - name: DD_TRACE_ENABLED
              value: "false"
            {{- end }}
            - name: DD_LOGS_INJECTION
              value: {{ .Values.datadog.logsInjection | toString | quote }}
            {{- with (.Values.admin | default dict).existingSecret }}
            - name: ADMIN_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ . }}
                  key: {{ $.Values.admin.existingSecretKey }}
            {{- end }}
            {{- range $key, $value := .Values.config }}
            - name: {{ $key }}
              value: {{ if kindIs "float64" $value }}{{ $value | int64 | quote }}{{ else }}{{ $value | toString | quote }}{{ end }}
            {{- end }}
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: {{ .Values.probes.startup.path }}
              port: http
            periodSeconds: {{ .Values.probes.startup.periodSeconds }}
            timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds }}
            failureThreshold: {{ .Values.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: {{ .Values.probes.liveness.path }}
              port: http
            periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: {{ .Values.probes.readiness.path }}
              port: http
            periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
          {{- if gt (int .Values.shutdown.preStopSleepSeconds) 0 }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ .Values.shutdown.preStopSleepSeconds | int64 | quote }}]
          {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          volumeMounts:
            # The root filesystem is read-only; Node and dd-trace may still want a scratch /tmp.
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with .Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- range . }}
        - topologyKey: {{ .topologyKey }}
          maxSkew: {{ .maxSkew }}
          whenUnsatisfiable: {{ .whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "common.selectorLabels" $sel | nindent 14 }}
          # Spread each rollout's pods on their own, not old and new together.
          matchLabelKeys:
            - pod-template-hash
        {{- end }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
