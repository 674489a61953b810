package main

import (
	"fmt"
	"strings"
)

// writeChart writes charts/chart-NN, modelled on what `helm create` gives:
// helpers for names and labels, a Deployment with probes and resources, a
// Service, a ConfigMap fed from values, a ServiceAccount and an optional
// HPA. Charts differ in name, version, default image and port so that each
// renders differently.
func (g *generator) writeChart(c int) error {
	name := chartName(c)
	dir := "charts/" + name + "/"
	subst := strings.NewReplacer(
		"__CHART__", name,
		"__VERSION__", chartVersion(c),
		"__IMAGE__", fmt.Sprintf("registry.example.org/bench/%s", name),
		"__PORT__", fmt.Sprint(8080+c),
	)
	files := []struct{ path, text string }{
		{"Chart.yaml", chartYAML},
		{"values.yaml", valuesYAML},
		{".helmignore", helmignore},
		{"templates/_helpers.tpl", helpersTpl},
		{"templates/deployment.yaml", deploymentTpl},
		{"templates/service.yaml", serviceTpl},
		{"templates/configmap.yaml", configMapTpl},
		{"templates/serviceaccount.yaml", serviceAccountTpl},
		{"templates/hpa.yaml", hpaTpl},
		{"templates/NOTES.txt", notesTxt},
	}
	for _, f := range files {
		if err := g.write(dir+f.path, subst.Replace(f.text)); err != nil {
			return err
		}
	}
	return nil
}

const chartYAML = `apiVersion: v2
name: __CHART__
description: A synthetic web service chart for slipway's Helm benchmark
type: application
version: __VERSION__
appVersion: "1.0.0"
kubeVersion: ">=1.25.0-0"
`

const valuesYAML = `replicaCount: 1

image:
  repository: __IMAGE__
  pullPolicy: IfNotPresent
  tag: ""

nameOverride: ""
fullnameOverride: ""

serviceAccount:
  create: true
  automount: false
  annotations: {}
  name: ""

podAnnotations: {}
podLabels: {}

podSecurityContext:
  runAsNonRoot: true
  seccompProfile:
    type: RuntimeDefault

securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]

service:
  type: ClusterIP
  port: __PORT__

resources: {}

autoscaling:
  enabled: false
  minReplicas: 1
  maxReplicas: 5
  targetCPUUtilizationPercentage: 80

config: {}

nodeSelector: {}
tolerations: []
affinity: {}
`

const helmignore = `.DS_Store
.git/
*.swp
*.bak
*.tmp
`

const helpersTpl = `{{/*
Expand the name of the chart.
*/}}
{{- define "__CHART__.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A default fully qualified app name, truncated at 63 characters because some
Kubernetes name fields are limited to this (by the DNS naming spec).
*/}}
{{- define "__CHART__.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "__CHART__.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "__CHART__.labels" -}}
helm.sh/chart: {{ include "__CHART__.chart" . }}
{{ include "__CHART__.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "__CHART__.selectorLabels" -}}
app.kubernetes.io/name: {{ include "__CHART__.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "__CHART__.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "__CHART__.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
`

const deploymentTpl = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "__CHART__.fullname" . }}
  labels:
    {{- include "__CHART__.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "__CHART__.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "__CHART__.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "__CHART__.serviceAccountName" . }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "__CHART__.fullname" . }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
          readinessProbe:
            httpGet:
              path: /ready
              port: http
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
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
`

const serviceTpl = `apiVersion: v1
kind: Service
metadata:
  name: {{ include "__CHART__.fullname" . }}
  labels:
    {{- include "__CHART__.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "__CHART__.selectorLabels" . | nindent 4 }}
`

const configMapTpl = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "__CHART__.fullname" . }}
  labels:
    {{- include "__CHART__.labels" . | nindent 4 }}
data:
  RELEASE_NAME: {{ .Release.Name | quote }}
  RELEASE_NAMESPACE: {{ .Release.Namespace | quote }}
  {{- range $k, $v := .Values.config }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
`

const serviceAccountTpl = `{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "__CHART__.serviceAccountName" . }}
  labels:
    {{- include "__CHART__.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
{{- end }}
`

const hpaTpl = `{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "__CHART__.fullname" . }}
  labels:
    {{- include "__CHART__.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "__CHART__.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
`

const notesTxt = `{{ include "__CHART__.fullname" . }} is listening on port {{ .Values.service.port }}
in namespace {{ .Release.Namespace }}.
`
