{{- /*
Kafka mode's gradingd flags (issue 11), and the SASL credentials from a
Secret as environment variables that the flags expand ($(VAR) in args).
*/ -}}
{{- define "grading.kafkaArgs" -}}
{{- if .Values.kafka.enabled }}
{{- if or (not .Values.kafka.brokers) (not .Values.kafka.topic) }}
{{- fail "kafka.enabled needs kafka.brokers and kafka.topic" }}
{{- end }}
- --kafka-brokers
- {{ .Values.kafka.brokers | quote }}
- --kafka-topic
- {{ .Values.kafka.topic | quote }}
{{- with .Values.kafka.dlqTopic }}
- --kafka-dlq-topic
- {{ . | quote }}
{{- end }}
- --ready-max-lag
- {{ int64 .Values.kafka.readyMaxLag | quote }}
{{- with .Values.kafka.auth.secretName }}
- --kafka-config
- {{ printf "security.protocol=%s" $.Values.kafka.auth.securityProtocol | quote }}
- --kafka-config
- {{ printf "sasl.mechanism=%s" $.Values.kafka.auth.mechanism | quote }}
- --kafka-config
- "sasl.username=$(GRADING_KAFKA_USERNAME)"
- --kafka-config
- "sasl.password=$(GRADING_KAFKA_PASSWORD)"
{{- end }}
{{- range .Values.kafka.config }}
- --kafka-config
- {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "grading.kafkaEnv" -}}
{{- if and .Values.kafka.enabled .Values.kafka.auth.secretName }}
- name: GRADING_KAFKA_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.auth.secretName | quote }}
      key: {{ .Values.kafka.auth.usernameKey | quote }}
- name: GRADING_KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.auth.secretName | quote }}
      key: {{ .Values.kafka.auth.passwordKey | quote }}
{{- end }}
{{- end -}}
