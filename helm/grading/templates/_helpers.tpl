{{/*
Names, labels and the few computed settings shared by the templates.
*/}}

{{- define "grading.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: the release name, plus the chart name unless the
release name already contains it. 63 characters at most (DNS label); the
StatefulSet controller adds an 11-character revision hash to a label
and the headless Service adds "-headless", so 52 for the base.
*/}}
{{- define "grading.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "grading.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "grading.selectorLabels" -}}
app.kubernetes.io/name: {{ include "grading.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "grading.labels" -}}
helm.sh/chart: {{ include "grading.chart" . }}
{{ include "grading.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "grading.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}

{{/*
The policy file gradingd loads: the mounted ConfigMap when policy.content is
set, else a preset built into the image. The preset name becomes a path, so
it is checked to be a plain file name.
*/}}
{{- define "grading.policyPath" -}}
{{- if .Values.policy.content -}}
/etc/grading/custom/policy.yaml
{{- else -}}
{{- $preset := required "policy.preset (or policy.content) is required" .Values.policy.preset | toString -}}
{{- if not (regexMatch "^[A-Za-z0-9][A-Za-z0-9_.-]*$" $preset) -}}
{{- fail (printf "policy.preset must be a preset name like kakaostyle (letters, digits, '_', '-', '.'), got %q" $preset) -}}
{{- end -}}
{{- printf "/etc/grading/policies/%s.yaml" (trimSuffix ".yaml" $preset) -}}
{{- end -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds: given, or drain + grace + 10 s. Either way it
must exceed drain + grace, or the kubelet's SIGKILL cuts the drain short.
*/}}
{{- define "grading.terminationGrace" -}}
{{- $work := div (add (int64 .Values.server.drainMs) (int64 .Values.server.shutdownGraceMs) 999) 1000 -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds -}}
{{- add $work 10 -}}
{{- else if eq (toString .Values.terminationGracePeriodSeconds) "" -}}
{{- add $work 10 -}}
{{- else -}}
{{- $t := int64 .Values.terminationGracePeriodSeconds -}}
{{- if le $t $work -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above (server.drainMs + server.shutdownGraceMs) / 1000 = %d seconds, or the drain is killed" $t $work) -}}
{{- end -}}
{{- $t -}}
{{- end -}}
{{- end -}}

{{/*
gradingd's operations flags (issue 10): the admin server, logs, and
/backup for the CronJob's pod when backups are on.
*/}}
{{- define "grading.opsArgs" -}}
- --admin-listen
- {{ printf "%s:%d" .Values.admin.listenHost (int .Values.admin.port) | quote }}
- --liveness-timeout-ms
- {{ int64 .Values.admin.livenessTimeoutMs | quote }}
- --log-format
- {{ .Values.logging.format | quote }}
- --log-level
- {{ .Values.logging.level | quote }}
{{- if .Values.logging.accessLog.enabled }}
- --access-log
- --access-log-sample
- {{ .Values.logging.accessLog.sampleRate | quote }}
{{- end }}
{{- if .Values.backup.enabled }}
- --admin-remote-backup
{{- end }}
{{- with .Values.data }}
- --max-future-skew
- {{ .maxFutureSkew | quote }}
- --orphan-max-age
- {{ .orphanMaxAge | quote }}
- --retention-margin
- {{ .retentionMargin | quote }}
- --dedup-horizon
- {{ .dedupHorizon | quote }}
- --prune-interval
- {{ .pruneInterval | quote }}
- --keep-periods
- {{ int64 .keepPeriods | quote }}
- --watch-max-lag
- {{ int64 .watchMaxLag | quote }}
- --change-log-max-age
- {{ .changeLogMaxAge | quote }}
- --change-log-max-entries
- {{ int64 .changeLogMaxEntries | quote }}
{{- end }}
{{- end -}}

{{/* The backup job's pods: not the server's selector labels, so that the
Service, the PodDisruptionBudget and the StatefulSet never select them. */}}
{{- define "grading.backupSelectorLabels" -}}
app.kubernetes.io/name: {{ include "grading.name" . }}-backup
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: backup
{{- end -}}
