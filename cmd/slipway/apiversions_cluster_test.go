package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testcluster"
)

// serviceMonitorCRD makes the cluster serve monitoring.coreos.com/v1
// ServiceMonitor, as the Prometheus operator's CRDs do.
const serviceMonitorCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// TestAPIVersionsFromCluster: connected to a cluster, charts see what it
// serves in .Capabilities.APIVersions without --api-versions. apply
// installs the ServiceMonitor the chart renders only when the cluster
// serves that kind (Helm's install discovers that itself); the live diff
// right after renders it too, so it finds nothing to change — rendered
// without the cluster's API versions, the ServiceMonitor would show as
// deleted by the next upgrade.
func TestAPIVersionsFromCluster(t *testing.T) {
	c := testcluster.ForTest(t, testcluster.Options{})
	dir := capsRepo(t)
	crd := filepath.Join(t.TempDir(), "crd.yaml")
	if err := os.WriteFile(crd, []byte(serviceMonitorCRD), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(t.Context(), "apply", "-f", crd); err != nil {
		t.Fatalf("installing the CRD: %v\n%s", err, out)
	}
	if out, err := c.Kubectl(t.Context(), "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com", "--timeout=60s"); err != nil {
		t.Fatalf("waiting for the CRD: %v\n%s", err, out)
	}
	r := runCLI(t, nil, "apply", "--repo", dir, "--kubeconfig", c.Kubeconfig, "--cache-dir", t.TempDir(), "--timeout", "2m")
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	out, err := c.Kubectl(t.Context(), "-n", "web", "get", "servicemonitors.monitoring.coreos.com", "-o", "name")
	if err != nil || !strings.Contains(out, "servicemonitor.monitoring.coreos.com/caps") {
		t.Errorf("the chart's ServiceMonitor was not installed: %v\n%s\napply output:\n%s", err, out, r.out)
	}
	r = runCLI(t, nil, "diff", "--live", "--repo", dir, "--kubeconfig", c.Kubeconfig, "--cache-dir", t.TempDir(), "--exit-code")
	if r.code != 0 {
		t.Errorf("live diff right after apply: exit %d, want 0 (no change)\n%s\n%s", r.code, r.out, r.err)
	}
}
