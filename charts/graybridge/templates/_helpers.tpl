{{- define "graybridge.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "graybridge.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "graybridge.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: forwarder
{{- end -}}

{{- define "graybridge.enricherSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: enricher
{{- end -}}

{{/* The ServiceAccount the ClusterRole is bound to: the enricher's in shared mode, else the forwarder's. */}}
{{- define "graybridge.enricherServiceAccountName" -}}
{{- printf "%s-enricher" (include "graybridge.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "graybridge.watcherServiceAccountName" -}}
{{- if .Values.sharedEnricher.enabled -}}
{{- include "graybridge.enricherServiceAccountName" . -}}
{{- else -}}
{{- include "graybridge.serviceAccountName" . -}}
{{- end -}}
{{- end -}}

{{- define "graybridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "graybridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "graybridge.opsPort" -}}
{{- (.Values.config.ops | default dict).port | default 9464 -}}
{{- end -}}

{{/* The config as the forwarder reads it; the drain deadline follows the grace period unless set. */}}
{{- define "graybridge.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $ops := $config.ops | default dict -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- if not (hasKey $ops "drainTimeoutMillis") -}}
{{- $_ := set $ops "drainTimeoutMillis" (mul (sub $grace 5) 1000) -}}
{{- else if ge (int $ops.drainTimeoutMillis) (mul $grace 1000) -}}
{{- fail (printf "config.ops.drainTimeoutMillis (%v) must be below terminationGracePeriodSeconds (%d s): the kubelet kills the pod at the end of the grace period" $ops.drainTimeoutMillis $grace) -}}
{{- end -}}
{{- $_ := set $config "ops" $ops -}}
{{- if .Values.sharedEnricher.enabled -}}
{{- if eq (($config.kubernetes | default dict).enabled | toString) "false" -}}
{{- fail "sharedEnricher.enabled needs config.kubernetes.enabled: there is no metadata to share" -}}
{{- end -}}
{{- $redisUrl := false -}}
{{- range .Values.secretEnv -}}{{- if eq .env "GRAYBRIDGE_REDIS_URL" -}}{{- $redisUrl = true -}}{{- end -}}{{- end -}}
{{- if not $redisUrl -}}
{{- fail "sharedEnricher.enabled needs the Redis URL: add { env: GRAYBRIDGE_REDIS_URL, secretName: ..., key: ... } to secretEnv" -}}
{{- end -}}
{{- $kubernetes := deepCopy ($config.kubernetes | default dict) -}}
{{- $_ := set $kubernetes "mode" "redis" -}}
{{- $_ := set $config "kubernetes" $kubernetes -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The image's entrypoint (Dockerfile) with Node's flags (a list, or null for none) in front. */}}
{{- define "graybridge.command" -}}
{{- concat (list "node") (default (list) .) (list "packages/forwarder/dist/src/cli/main.js") | toJson -}}
{{- end }}
