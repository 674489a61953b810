package helm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/helm"
)

// TestRenderErrors checks every failure is a typed error whose message
// says what, where and (for versions) what exists instead.
func TestRenderErrors(t *testing.T) {
	e := newEnv(t)
	r := e.renderer(t, t.TempDir())
	oldKube := e.renderer(t, t.TempDir(), func(o *helm.Options) { o.KubeVersion = "1.29.4" })

	podinfo := func(version, source, extra string) string {
		return helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "`+version+`"
      sourceRef: {kind: HelmRepository, name: `+source+`, namespace: flux-system}
`+extra)
	}
	demo := func(extra string) string {
		return helmRelease("demo", "apps", `
  chart:
    spec:
      chart: charts/demo
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
`+extra)
	}
	cases := []struct {
		name    string
		docs    string
		release string
		r       *helm.Renderer
		as      any
		want    []string
		never   []string
	}{
		{name: "version not found lists nearest", docs: podinfo("^9.0.0", "charts", ""), release: "apps/podinfo",
			as:   new(*helm.ChartNotFoundError),
			want: []string{`chart "podinfo" version "^9.0.0" not found in HTTP_REPO/`, "nearest available versions: 7.0.0-rc.1, 6.1.0, 6.0.0"}},
		{name: "chart name not found", docs: helmRelease("nginx", "apps", `
  chart:
    spec:
      chart: nginx
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
`), release: "apps/nginx", as: new(*helm.ChartNotFoundError),
			want: []string{`chart "nginx"`, "has no chart of that name (it has: demo, podinfo)"}},
		{name: "oci tag not found", docs: podinfo("6.5.0", "oci-charts", ""), release: "apps/podinfo",
			as:   new(*helm.ChartNotFoundError),
			want: []string{`version "6.5.0" not found in oci://OCI_REGISTRY/charts/podinfo`, "nearest available versions:", "6.1.0"}},
		{name: "index 404", docs: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: missing, namespace: flux-system}
spec: {interval: 10m, url: HTTP_REPO/missing/}
` + podinfo("*", "missing", ""), release: "apps/podinfo", as: new(*helm.SourceError),
			want: []string{"HelmRepository flux-system/missing (HTTP_REPO/missing/index.yaml): fetching the repository index: HTTP 404"}},
		{name: "unauthorized, password never shown", docs: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: wrong-auth, namespace: flux-system}
spec: {interval: 10m, url: HTTP_REPO/private, secretRef: {name: wrong-auth}}
---
apiVersion: v1
kind: Secret
metadata: {name: wrong-auth, namespace: flux-system}
stringData: {username: ci-reader, password: not-the-right-pass-123}
` + podinfo("*", "wrong-auth", ""), release: "apps/podinfo", as: new(*helm.SourceError),
			want: []string{"HTTP 401"}, never: []string{"not-the-right-pass-123"}},
		{name: "repository unreachable", docs: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: down, namespace: flux-system}
spec: {interval: 10m, url: "http://127.0.0.1:1/charts"}
` + podinfo("*", "down", ""), release: "apps/podinfo", as: new(*helm.SourceError),
			want: []string{"HelmRepository flux-system/down (http://127.0.0.1:1/charts/index.yaml)", "repository unreachable"}},
		{name: "ConfigMap values do not parse", docs: `
apiVersion: v1
kind: ConfigMap
metadata: {name: bad-values, namespace: apps}
data:
  values.yaml: |
    replicaCount: 2
    image: [unclosed
` + podinfo("6.1.0", "charts", "  valuesFrom: [{kind: ConfigMap, name: bad-values}]\n"), release: "apps/podinfo",
			as:   new(*helm.ValuesError),
			want: []string{"values ConfigMap apps/bad-values key values.yaml:", "does not parse as YAML"}},
		{name: "Secret values do not parse, content never shown", docs: `
apiVersion: v1
kind: Secret
metadata: {name: bad-secret, namespace: apps}
stringData:
  values.yaml: |
    password: hunter2-very-secret
    : : broken
` + podinfo("6.1.0", "charts", "  valuesFrom: [{kind: Secret, name: bad-secret}]\n"), release: "apps/podinfo",
			as:   new(*helm.ValuesError),
			want: []string{"values Secret apps/bad-secret key values.yaml", "content not shown"}, never: []string{"hunter2"}},
		{name: "required valuesFrom missing", docs: podinfo("6.1.0", "charts", "  valuesFrom: [{kind: ConfigMap, name: nowhere}]\n"),
			release: "apps/podinfo", as: new(*helm.ValuesError),
			want: []string{"ConfigMap apps/nowhere key values.yaml", "not found in the cluster path"}},
		{name: "values file does not parse", docs: demo("      valuesFiles: [values/broken.yaml]\n"), release: "apps/demo",
			as: new(*helm.ValuesError), want: []string{"values values/broken.yaml:3: does not parse as YAML"}},
		{name: "missing values file", docs: strings.Replace(podinfo("6.1.0", "charts", ""), "      sourceRef", "      valuesFiles: [values-staging.yaml]\n      sourceRef", 1),
			release: "apps/podinfo", as: new(*helm.ValuesError), want: []string{`no values file found at path "values-staging.yaml"`}},
		{name: "template error with file and line", docs: demo(""), release: "apps/demo", as: new(*helm.TemplateError),
			want: []string{"rendering chart demo 1.0.0: demo/templates/configmap.yaml:6:", "greeting.text is required"}},
		{name: "values against the chart schema", docs: podinfo("6.1.0", "charts", "  values: {replicaCount: three}\n"), release: "apps/podinfo",
			as: new(*helm.ValuesError), want: []string{"values chart podinfo values.schema.json", "replicaCount"}},
		{name: "kubeVersion excludes the target", docs: demo("  values: {greeting: {text: hi}}\n"), release: "apps/demo", r: oldKube,
			as: new(*helm.KubeVersionError), want: []string{`chart demo 1.0.0 requires kubeVersion ">=1.30.0-0", which excludes the target Kubernetes version v1.29.4`}},
		{name: "unsupported source kind", docs: helmRelease("x", "apps", `
  chart:
    spec:
      chart: x
      sourceRef: {kind: Bucket, name: b}
`), release: "apps/x", as: new(*helm.SourceError), want: []string{"Bucket apps/b: sourceRef kind not supported"}},
		{name: "missing source", docs: podinfo("*", "nowhere", ""), release: "apps/podinfo", as: new(*helm.SourceError),
			want: []string{"HelmRepository flux-system/nowhere: not found in the cluster path"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rr := r
			if tc.r != nil {
				rr = tc.r
			}
			rb := renderAll(t, rr, e.expand(sources+tc.docs))[tc.release]
			if rb == nil {
				t.Fatalf("release %s not rendered", tc.release)
			}
			if rb.Err == nil {
				t.Fatalf("rendered without error; want %v", tc.want)
			}
			if !errors.As(rb.Err, tc.as) {
				t.Errorf("error is %T, want %T: %v", rb.Err, tc.as, rb.Err)
			}
			msg := e.redact(rb.Err.Error())
			t.Logf("error: %s", msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			for _, n := range append(tc.never, privatePassword) {
				if strings.Contains(msg, n) {
					t.Errorf("error %q shows the secret %q", msg, n)
				}
			}
			if len(rb.Objects) != 0 {
				t.Errorf("a failed release has %d objects", len(rb.Objects))
			}
		})
	}
}
