package flux_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/flux"
)

func object(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestFluxInstanceSync: spec.sync of a FluxInstance, values.instance.sync
// of a flux-instance HelmRelease; the objects are named after the
// instance's namespace unless sync.name says otherwise.
func TestFluxInstanceSync(t *testing.T) {
	cases := []struct {
		name, doc string
		want      string // Kind/ns/name path, "" for not a sync
	}{
		{"instance-default-name", `
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: gitops}
spec: {sync: {kind: GitRepository, url: https://x/y, ref: refs/heads/main, path: clusters/a}}`, "GitRepository/gitops/gitops clusters/a"},
		{"instance-named", `
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec: {sync: {kind: OCIRepository, name: fleet, url: oci://r/x, ref: latest, path: "."}}`, "OCIRepository/flux-system/fleet ."},
		{"instance-without-sync", `
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec: {distribution: {version: 2.x}}`, ""},
		{"chart-target-namespace", `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: flux, namespace: flux-system}
spec:
  targetNamespace: ops
  chart: {spec: {chart: flux-instance, sourceRef: {kind: HelmRepository, name: cp}}}
  values: {instance: {sync: {kind: GitRepository, url: https://x/y, ref: refs/heads/main, path: clusters/b}}}`, "GitRepository/ops/ops clusters/b"},
		{"other-chart", `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app, namespace: flux-system}
spec:
  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: cp}}}
  values: {instance: {sync: {kind: GitRepository, path: clusters/b}}}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := flux.FluxInstanceSync(object(t, tc.doc))
			got := ""
			if ok {
				got = s.Kind + "/" + s.Namespace + "/" + s.Name + " " + s.Path
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
