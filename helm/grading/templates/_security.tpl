{{/*
Security helpers (TLS, authz): the Secret's name, gradingd's flags, the
volumes and mounts, and the probes (native gRPC without TLS; gradectl over
localhost with the pod's certificate with TLS, which kubelet's gRPC probe
cannot speak).
*/}}

{{- define "grading.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "grading.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{- define "grading.securityArgs" -}}
{{- if .Values.tls.enabled }}
- --tls-cert
- /etc/grading/tls/tls.crt
- --tls-key
- /etc/grading/tls/tls.key
{{- if .Values.tls.requireClientCert }}
- --tls-client-ca
- /etc/grading/tls/ca.crt
{{- end }}
{{- else }}
- --allow-insecure
{{- end }}
{{- if .Values.authz.content }}
- --authz
- /etc/grading/authz/authz.yaml
{{- end }}
{{- if .Values.authz.trustProxyIdentity }}
- --trust-proxy-identity
{{- end }}
{{- end -}}

{{- define "grading.securityMounts" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/grading/tls
  readOnly: true
{{- end }}
{{- if .Values.authz.content }}
- name: authz
  mountPath: /etc/grading/authz
  readOnly: true
{{- end }}
{{- end -}}

{{- define "grading.securityVolumes" -}}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "grading.tlsSecretName" . }}
{{- end }}
{{- if .Values.authz.content }}
- name: authz
  configMap:
    name: {{ include "grading.fullname" . }}-authz
{{- end }}
{{- end -}}

{{/* One probe's action: call with the port. */}}
{{- define "grading.probeAction" -}}
{{- if .Values.tls.enabled }}
exec:
  command:
    - gradectl
    - --addr
    - {{ printf "localhost:%d" (int .Values.server.port) | quote }}
    - --tls-ca
    - /etc/grading/tls/ca.crt
    {{- if .Values.tls.requireClientCert }}
    - --tls-cert
    - /etc/grading/tls/tls.crt
    - --tls-key
    - /etc/grading/tls/tls.key
    {{- end }}
    - --timeout-ms
    - "2000"
    - health
{{- else }}
grpc:
  port: {{ int .Values.server.port }}
{{- end }}
{{- end -}}
