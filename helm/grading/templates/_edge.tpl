{{/*
The edge: HAProxy (deploy/haproxy/haproxy.cfg, /etc/grading/haproxy.cfg in
the same image, entrypoint grading-edge) as a sidecar of gradingd. It owns
the pod's gRPC port (server.port, the Service's target); gradingd listens on
127.0.0.1:server.backendPort only, reachable from this container through the
pod's shared loopback. Settings are the config's environment variables.

TLS comes from the chart's `tls` values (tls.enabled, tls.secretName,
default <fullname>-tls, tls.requireClientCert, default true), the same
kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) whichever container
terminates TLS: here the edge does, and gradingd behind it speaks plaintext
on loopback. Read with defaults, so a chart without a `tls` block renders
with TLS off.
*/}}

{{- define "grading.edgeTLS" -}}
{{- $tls := .Values.tls | default dict -}}
{{- if $tls.enabled -}}
{{- $secret := default (printf "%s-tls" (include "grading.fullname" .)) $tls.secretName -}}
{{- $mtls := ne (toString (dig "requireClientCert" true $tls)) "false" -}}
{{- dict "secret" $secret "mtls" $mtls | toJson -}}
{{- end -}}
{{- end -}}

{{- define "grading.edgeContainer" -}}
{{- $port := int .Values.server.port -}}
{{- $tls := include "grading.edgeTLS" . | default "{}" | fromJson -}}
- name: edge
  image: {{ include "grading.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["grading-edge"]
  env:
    - name: GRADING_EDGE_LISTEN
      value: {{ printf "%s:%d" .Values.server.listenHost $port | quote }}
    - name: GRADING_BACKEND
      value: {{ printf "127.0.0.1:%d" (int .Values.server.backendPort) | quote }}
    - name: GRADING_EDGE_MAXCONN
      value: {{ int64 .Values.edge.maxConn | quote }}
    - name: GRADING_BACKEND_MAXREQ
      value: {{ int64 .Values.edge.backendMaxRequests | quote }}
    - name: GRADING_EDGE_SRC_CONN_MAX
      value: {{ int64 .Values.edge.perSource.connections | quote }}
    - name: GRADING_EDGE_SRC_CONN_RATE
      value: {{ int64 .Values.edge.perSource.connectionRate | quote }}
    - name: GRADING_EDGE_SRC_REQ_RATE
      value: {{ int64 .Values.edge.perSource.requestRate | quote }}
    - name: GRADING_EDGE_UNARY_TIMEOUT
      value: {{ .Values.edge.unaryTimeout | quote }}
    - name: GRADING_EDGE_LONG_TIMEOUT
      value: {{ .Values.edge.longTimeout | quote }}
    - name: GRADING_EDGE_LOG_LEVEL
      value: {{ .Values.edge.logLevel | quote }}
    {{- if $tls.secret }}
    - name: GRADING_EDGE_TLS_CERT
      value: /etc/grading/edge-tls/edge.pem
    {{- end }}
    {{- if $tls.mtls }}
    - name: GRADING_EDGE_TLS_CA
      value: /etc/grading/edge-tls/ca.pem
    {{- end }}
    {{- with .Values.edge.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: grpc
      containerPort: {{ $port }}
      protocol: TCP
  {{- if not $tls.secret }}
  # Through the edge to gradingd: Health/Check SERVING, NOT_SERVING while
  # it drains (the pod leaves the Service's endpoints).
  readinessProbe:
    grpc:
      port: {{ $port }}
    {{- toYaml .Values.edge.probes.readiness | nindent 4 }}
  {{- else }}
  # The kubelet's gRPC probe speaks plaintext only: with TLS on the edge,
  # readiness is gradingd's (its own probe) and the edge's port accepting.
  readinessProbe:
    tcpSocket:
      port: {{ $port }}
    {{- toYaml .Values.edge.probes.readiness | nindent 4 }}
  {{- end }}
  # HAProxy itself: its port accepts connections (not gradingd's state, so
  # a draining gradingd does not get its edge restarted).
  livenessProbe:
    tcpSocket:
      port: {{ $port }}
    {{- toYaml .Values.edge.probes.liveness | nindent 4 }}
  # Kubernetes sends SIGTERM to both containers at once, and HAProxy stops
  # at once on SIGTERM: wait until gradingd has drained and finished its
  # calls (drainMs + shutdownGraceMs), so they can still reach it.
  lifecycle:
    preStop:
      exec:
        command: ["sleep", {{ include "grading.drainSeconds" . | quote }}]
  resources:
    {{- toYaml .Values.edge.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  {{- if $tls.secret }}
  volumeMounts:
    - name: edge-tls
      mountPath: /etc/grading/edge-tls
      readOnly: true
  {{- end }}
{{- end -}}

{{/*
The edge's volume: HAProxy wants the certificate in one file and finds the
key in "<file>.key", so the Secret's tls.crt and tls.key are mounted under
those names (and ca.crt, for mutual TLS, as ca.pem).
*/}}
{{- define "grading.edgeVolumes" -}}
{{- $tls := include "grading.edgeTLS" . | default "{}" | fromJson -}}
{{- if $tls.secret }}
- name: edge-tls
  secret:
    secretName: {{ $tls.secret }}
    items:
      - key: tls.crt
        path: edge.pem
      - key: tls.key
        path: edge.pem.key
      {{- if $tls.mtls }}
      - key: ca.crt
        path: ca.pem
      {{- end }}
{{- end }}
{{- end -}}

{{/* drainMs + shutdownGraceMs in whole seconds, rounded up. */}}
{{- define "grading.drainSeconds" -}}
{{- div (add (int64 .Values.server.drainMs) (int64 .Values.server.shutdownGraceMs) 999) 1000 -}}
{{- end -}}
