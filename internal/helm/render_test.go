package helm_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// sources declares every chart source of the tests, as a cluster path
// would: the placeholders are replaced with the test servers' addresses.
const sources = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec: {interval: 10m, url: HTTP_REPO}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: private, namespace: flux-system}
spec:
  interval: 10m
  url: HTTP_REPO/private
  secretRef: {name: private-auth}
---
apiVersion: v1
kind: Secret
metadata: {name: private-auth, namespace: flux-system}
stringData: {username: ci-reader, password: s3cret-repo-pass}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: oci-charts, namespace: flux-system}
spec: {interval: 10m, type: oci, url: oci://OCI_REGISTRY/charts}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: podinfo, namespace: apps}
spec:
  interval: 10m
  url: oci://OCI_REGISTRY/charts/podinfo
  ref: {semver: ">=6.0.0"}
  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: charts-git, namespace: flux-system}
spec: {interval: 10m, url: GIT_REPO, ref: {branch: main}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 10m, url: https://github.com/example/fleet, ref: {branch: main}}
`

func helmRelease(name, namespace, spec string) string {
	return fmt.Sprintf("---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: %s, namespace: %s}\nspec:\n  interval: 10m\n%s", name, namespace, spec)
}

// goldenCases are the HelmReleases rendered into testdata/golden.
var goldenCases = []struct {
	name, docs, release string
}{
	{"http-semver-range", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0 <8.0.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  values:
    replicaCount: 2
    message: semver range picks 6.1.0, never the 7.0.0-rc.1 prerelease
`), "apps/podinfo"},
	{"http-private-basic-auth", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.0.0"
      sourceRef: {kind: HelmRepository, name: private, namespace: flux-system}
  install: {crds: Skip}
`), "apps/podinfo"},
	{"oci-helmrepository", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.0.x"
      sourceRef: {kind: HelmRepository, name: oci-charts, namespace: flux-system}
  install: {crds: Skip}
`), "apps/podinfo"},
	{"ocirepository-chartref", helmRelease("podinfo", "apps", `
  chartRef: {kind: OCIRepository, name: podinfo}
  install: {crds: Skip}
`), "apps/podinfo"},
	{"git-chart-path", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: ./charts/podinfo
      sourceRef: {kind: GitRepository, name: charts-git, namespace: flux-system}
      valuesFiles: [charts/podinfo/values.yaml, env/prod-values.yaml]
  install: {crds: Skip}
`), "apps/podinfo"},
	{"git-this-repository", helmRelease("demo", "apps", `
  chart:
    spec:
      chart: charts/demo
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
      valuesFiles: [charts/demo/values.yaml, values/demo.yaml]
`), "apps/demo"},
	{"values-from", `
apiVersion: v1
kind: ConfigMap
metadata: {name: podinfo-values, namespace: apps}
data:
  values.yaml: |
    replicaCount: 5
    message: from the ConfigMap
    service: {port: 8080}
  image-tag: "6.1.0-custom"
---
apiVersion: v1
kind: Secret
metadata: {name: podinfo-secret, namespace: apps}
data:
  message: ImZyb20gYSBTZWNyZXQi
  extra.yaml: ZXh0cmFMYWJlbHM6CiAgdGllcjogYmFja2VuZAo=
` + helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
      valuesFiles: [values.yaml, values-prod.yaml]
  valuesFrom:
    - {kind: ConfigMap, name: podinfo-values}
    - {kind: ConfigMap, name: podinfo-values, valuesKey: image-tag, targetPath: image.tag}
    - {kind: Secret, name: podinfo-secret, valuesKey: message, targetPath: message}
    - {kind: Secret, name: podinfo-secret, valuesKey: extra.yaml}
    - {kind: ConfigMap, name: does-not-exist, optional: true}
    - {kind: ConfigMap, name: podinfo-values, valuesKey: missing-key, optional: true}
  values:
    service: {type: NodePort}
  install: {crds: Skip}
`), "apps/podinfo"},
	{"post-renderers", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  commonMetadata:
    labels: {team: platform, helm.toolkit.fluxcd.io/name: overridden-by-origin}
    annotations: {owner: platform@example.com}
  postRenderers:
    - kustomize:
        patches:
          - target: {kind: Deployment}
            patch: |
              - op: add
                path: /spec/template/spec/nodeSelector
                value: {disk: ssd}
          - patch: |
              apiVersion: v1
              kind: Service
              metadata: {name: podinfo}
              spec: {type: LoadBalancer}
        images:
          - {name: ghcr.io/stefanprodan/podinfo, newName: registry.example.com/podinfo, newTag: "6.1.0-patched"}
  install: {crds: Skip}
`), "apps/podinfo"},
	{"names-and-namespaces", helmRelease("a-release-whose-name-is-long-enough-to-be-shortened", "flux-system", `
  targetNamespace: podinfo-production-environment
  storageNamespace: helm-storage
  dependsOn:
    - name: cert-manager
    - {name: ingress, namespace: networking}
  suspend: true
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts}
`), "flux-system/a-release-whose-name-is-long-enough-to-be-shortened"},
	{"crds-create", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  install: {crds: CreateReplace}
`), "apps/podinfo"},
	{"crds-skip", helmRelease("podinfo", "apps", `
  chart:
    spec:
      chart: podinfo
      version: "6.1.0"
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  install: {crds: Skip}
  values:
    widget: {enabled: false}
`), "apps/podinfo"},
}

// TestRenderGolden renders each case against real servers and compares
// the release with testdata/golden/<case>.yaml (-update rewrites them).
func TestRenderGolden(t *testing.T) {
	e := newEnv(t)
	r := e.renderer(t, t.TempDir())
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := renderAll(t, r, e.expand(sources+tc.docs))
			rb := got[tc.release]
			if rb == nil {
				t.Fatalf("no release %s rendered", tc.release)
			}
			if rb.Err != nil {
				t.Fatalf("render failed: %v", rb.Err)
			}
			testutil.Golden(t, filepath.Join("testdata", "golden", tc.name+".yaml"), e.redact(describe(t, rb)))
		})
	}
}

// describe renders a ReleaseBuild as stable, reviewable text.
func describe(t *testing.T, rb *result.ReleaseBuild) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# helmRelease: %s\n# releaseName: %s\n# namespace: %s\n# storageNamespace: %s\n",
		rb.Ref, rb.ReleaseName, rb.Namespace, rb.StorageNamespace)
	fmt.Fprintf(&b, "# chart: %s %s\n# source: %s\n# digest: %s\n", rb.Chart.Name, rb.Chart.Version, rb.Chart.Source, rb.Chart.Digest)
	fmt.Fprintf(&b, "# valuesDigest: %s\n# suspended: %v\n", rb.ValuesDigest, rb.Suspended)
	for _, d := range rb.DependsOn {
		fmt.Fprintf(&b, "# dependsOn: %s\n", d)
	}
	vals, err := yaml.Marshal(rb.Values)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("# values:\n")
	for _, l := range strings.Split(strings.TrimSpace(string(vals)), "\n") {
		b.WriteString("#   " + l + "\n")
	}
	write := func(section string, objs []result.Object) {
		ids := make([]string, 0, len(objs))
		for _, o := range objs {
			ids = append(ids, o.ID().String())
		}
		fmt.Fprintf(&b, "# %s: %d (%s)\n", section, len(objs), strings.Join(ids, ", "))
		for _, o := range objs {
			data, err := yaml.Marshal(o.Object.Object)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "---\n# %s from %s\n%s", section, o.Origin, data)
		}
	}
	write("objects", rb.Objects)
	write("crds", rb.CRDs)
	return b.String()
}

// TestRenderArchiveInCache checks the ReleaseBuild points at the exact
// archive that was rendered, in the cache.
func TestRenderArchiveInCache(t *testing.T) {
	e := newEnv(t)
	cache := t.TempDir()
	r := e.renderer(t, cache)
	for _, tc := range goldenCases {
		rb := renderAll(t, r, e.expand(sources+tc.docs))[tc.release]
		if rb.Err != nil {
			t.Fatalf("%s: %v", tc.name, rb.Err)
		}
		if !strings.HasPrefix(rb.ChartArchive, cache) || !strings.HasSuffix(rb.ChartArchive, ".tgz") {
			t.Errorf("%s: chart archive %q is not in the cache %s", tc.name, rb.ChartArchive, cache)
		}
	}
}
