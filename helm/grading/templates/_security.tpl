{{/*
Security helpers (TLS, authz): the TLS Secret's name (the edge terminates
TLS, _edge.tpl), gradingd's flags, and the authz volume and mount.
*/}}

{{- define "grading.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "grading.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{/*
gradingd's security flags. TLS is the edge's (_edge.tpl): gradingd listens
on loopback in plaintext, so it takes no --tls-* and needs no
--allow-insecure. With mutual TLS at the edge it takes the caller's
identity from the edge's x-grading-client-cn header (loopback peers only).
*/}}
{{- define "grading.securityArgs" -}}
{{- if .Values.authz.content }}
- --authz
- /etc/grading/authz/authz.yaml
{{- end }}
{{- $edgeMTLS := (include "grading.edgeTLS" . | default "{}" | fromJson).mtls }}
{{- if or .Values.authz.trustProxyIdentity $edgeMTLS }}
- --trust-proxy-identity
{{- end }}
{{- end -}}

{{- define "grading.securityMounts" -}}
{{- if .Values.authz.content }}
- name: authz
  mountPath: /etc/grading/authz
  readOnly: true
{{- end }}
{{- end -}}

{{- define "grading.securityVolumes" -}}
{{- if .Values.authz.content }}
- name: authz
  configMap:
    name: {{ include "grading.fullname" . }}-authz
{{- end }}
{{- end -}}
