{{/*
The bundled Redis (redis.bundled.enabled): one official-image Redis with AOF on a PVC, and its
Service. For trying the system out; in production point redis.url / redis.existingSecret at a
managed or replicated Redis with AOF (appendfsync always) and maxmemory-policy noeviction.
*/}}
{{- define "common.bundledRedis" -}}
{{- if .Values.redis.bundled.enabled }}
{{- $sel := dict "root" . "component" "redis" }}
{{- $name := include "common.childName" (dict "root" . "suffix" "redis") }}
{{- $r := .Values.redis.bundled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "common.labels" $sel | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "common.selectorLabels" $sel | nindent 4 }}
  ports:
    - name: redis
      port: 6379
      targetPort: redis
      protocol: TCP
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $name }}
  labels:
    {{- include "common.labels" $sel | nindent 4 }}
spec:
  replicas: 1
  serviceName: {{ $name }}
  selector:
    matchLabels:
      {{- include "common.selectorLabels" $sel | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "common.selectorLabels" $sel | nindent 8 }}
      annotations:
        {{- if .Values.datadog.enabled }}
        ad.datadoghq.com/redis.logs: '[{"source":"redis","service":"redis"}]'
        {{- end }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      # Redis flushes the AOF on SIGTERM; give it time with a large dataset.
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        # The `redis` user of the official image.
        runAsUser: 999
        runAsGroup: 999
        fsGroup: 999
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: redis
          image: {{ printf "%s:%s" $r.image.repository (toString $r.image.tag) | quote }}
          imagePullPolicy: {{ $r.image.pullPolicy }}
          args:
            - redis-server
            - --appendonly
            - "yes"
            - --appendfsync
            - {{ $r.appendfsync | quote }}
            # Evicting an order, a lock or a backlog entry would break the guarantees: refuse writes instead.
            - --maxmemory-policy
            - noeviction
            - --dir
            - /data
          ports:
            - name: redis
              containerPort: 6379
              protocol: TCP
          startupProbe:
            exec:
              command: ["sh", "-c", "redis-cli ping | grep -q PONG"]
            periodSeconds: 2
            failureThreshold: 150
          livenessProbe:
            tcpSocket:
              port: redis
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            # PING answers LOADING (not PONG) while the AOF is replayed.
            exec:
              command: ["sh", "-c", "redis-cli ping | grep -q PONG"]
            periodSeconds: 5
            timeoutSeconds: 3
          resources:
            {{- toYaml $r.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
          {{- include "common.selectorLabels" $sel | nindent 10 }}
      spec:
        accessModes: [ReadWriteOnce]
        {{- with $r.persistence.storageClass }}
        storageClassName: {{ . | quote }}
        {{- end }}
        resources:
          requests:
            storage: {{ $r.persistence.size }}
{{- end }}
{{- end }}
