{{/* Chart name, overridable. */}}
{{- define "admission-gate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix for every resource name; 63 characters is the DNS label limit Services are held to. */}}
{{- define "admission-gate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "admission-gate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that never change for a release: Deployment and Service selectors use them. */}}
{{- define "admission-gate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "admission-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "admission-gate.labels" -}}
helm.sh/chart: {{ include "admission-gate.chart" . }}
{{ include "admission-gate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: admission-gate
{{- end -}}

{{- define "admission-gate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "admission-gate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image: a digest pins it; otherwise the tag, defaulting to the gate version this chart was made for. */}}
{{- define "admission-gate.image" -}}
{{- $repository := required "image.repository is required" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* DNS name the API server calls; the serving certificate must carry it. */}}
{{- define "admission-gate.serviceHost" -}}
{{- printf "%s.%s.svc" (include "admission-gate.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "admission-gate.tlsSecretName" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "admission-gate.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* cert-manager Certificate that serves the webhook (its CA is injected into the webhook configurations). */}}
{{- define "admission-gate.certificateName" -}}
{{- printf "%s-serving" (include "admission-gate.fullname" .) -}}
{{- end -}}

{{- define "admission-gate.policyConfigMapName" -}}
{{- if .Values.policy.existingConfigMap -}}
{{- .Values.policy.existingConfigMap -}}
{{- else if .Values.policy.content -}}
{{- printf "%s-policy" (include "admission-gate.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "admission-gate.trustConfigMapName" -}}
{{- if .Values.trust.existingConfigMap -}}
{{- .Values.trust.existingConfigMap -}}
{{- else if .Values.trust.roots -}}
{{- printf "%s-trust" (include "admission-gate.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "admission-gate.credentialStoreSecretName" -}}
{{- if .Values.credentials.store.existingSecret -}}
{{- .Values.credentials.store.existingSecret -}}
{{- else -}}
{{- default (printf "%s-credentials" (include "admission-gate.fullname" .)) .Values.credentials.store.secretName -}}
{{- end -}}
{{- end -}}

{{- define "admission-gate.kekSecretName" -}}
{{- default (printf "%s-kek" (include "admission-gate.fullname" .)) .Values.credentials.kek.existingSecret -}}
{{- end -}}

{{/*
Namespaces the API server never sends to the gate: the release namespace (a gate that gates itself cannot recover
from a bad rollout), plus webhooks.excludeNamespaces. Rendered as a YAML list.
*/}}
{{- define "admission-gate.excludedNamespaces" -}}
{{- $namespaces := list .Release.Namespace -}}
{{- range .Values.webhooks.excludeNamespaces -}}
{{- $namespaces = append $namespaces . -}}
{{- end -}}
{{- toYaml (uniq $namespaces) -}}
{{- end -}}

{{/* Shared by both webhook configurations, so they can never disagree on what is excluded. */}}
{{- define "admission-gate.namespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- include "admission-gate.excludedNamespaces" . | nindent 6 }}
  - key: {{ required "webhooks.ignoreLabel is required (it is the audited emergency bypass)" .Values.webhooks.ignoreLabel }}
    operator: DoesNotExist
  {{- with .Values.webhooks.namespaceSelectorExpressions }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/*
Checks that span several values, which values.schema.json cannot express. Included by the Deployment so a bad
combination fails the install with a message instead of producing a gate that drops requests on shutdown.
*/}}
{{/*
Audit file sizing. The volume holds maxFiles rotated files of at most maxFileMiB each plus headroom, so the files the
gate keeps by rotation can never fill it (a full emptyDir evicts the pod; a full claim loses events).
*/}}
{{- define "admission-gate.auditMaxBytes" -}}
{{- mul (int .Values.audit.maxFileMiB) 1048576 -}}
{{- end -}}

{{- define "admission-gate.auditVolumeSize" -}}
{{- add (mul (int .Values.audit.maxFiles) (int .Values.audit.maxFileMiB)) (int .Values.audit.headroomMiB) }}Mi
{{- end -}}

{{- define "admission-gate.auditClaimName" -}}
{{- printf "%s-audit" (include "admission-gate.fullname" .) -}}
{{- end -}}

{{- define "admission-gate.validate" -}}
{{- $drain := add .Values.server.shutdownDelaySeconds .Values.server.shutdownTimeoutSeconds -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $drain) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be longer than server.shutdownDelaySeconds + server.shutdownTimeoutSeconds (%v), or Kubernetes kills replicas that are still answering" .Values.terminationGracePeriodSeconds $drain) -}}
{{- end -}}
{{- if lt (int .Values.server.shutdownTimeoutSeconds) (int .Values.webhooks.timeoutSeconds) -}}
{{- fail (printf "server.shutdownTimeoutSeconds (%v) must be at least webhooks.timeoutSeconds (%v) so in-flight admission requests can finish" .Values.server.shutdownTimeoutSeconds .Values.webhooks.timeoutSeconds) -}}
{{- end -}}
{{- if and .Values.tls.existingSecret .Values.tls.certManager.enabled -}}
{{- fail "tls.existingSecret and tls.certManager.enabled are mutually exclusive" -}}
{{- end -}}
{{- if and .Values.policy.content .Values.policy.existingConfigMap -}}
{{- fail "set policy.content or policy.existingConfigMap, not both" -}}
{{- end -}}
{{- if and .Values.trust.roots .Values.trust.existingConfigMap -}}
{{- fail "set trust.roots or trust.existingConfigMap, not both" -}}
{{- end -}}
{{- if and .Values.audit.enabled .Values.audit.persistence.enabled (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "audit.persistence needs replicaCount 1 (got %v): one ReadWriteOnce claim, one writer of the rotated files; with more replicas forward stdout to the SIEM (docs/audit-events.md)" .Values.replicaCount) -}}
{{- end -}}
{{- end -}}
