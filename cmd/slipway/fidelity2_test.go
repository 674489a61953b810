package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildExternalSecretTargets: a Kustomization taking variables from a
// Secret an ExternalSecret of the cluster path makes builds (exit 0),
// leaves that Secret's variables as written, and warns on stderr naming
// the ExternalSecret's file and line; --external-objects supplies the
// real values.
func TestBuildExternalSecretTargets(t *testing.T) {
	dir := fidelityCase(t, "external-secret")
	repo := filepath.Join(dir, "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"tunnel: ${TUNNEL_ID}", "protocol: quic", "hostname: ingress.example.org", "token: ${HOME_TOKEN}"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	want := "clusters/dev/apps.yaml:42 [substitution] Kustomization/flux-system/cloudflared: variables from Secret flux-system/cloudflare-tunnel-secret (made by ExternalSecret flux-system/cloudflare-tunnel at kubernetes/platform/externalsecrets.yaml:21) are unknown offline"
	if !strings.Contains(r.err, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.err)
	}
	r = runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Errorf("validate: exit %d (a Secret made in the cluster is no error)\n%s\n%s", r.code, r.out, r.err)
	}
	r = runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir(), "--external-objects", filepath.Join(dir, "external.yaml"))
	if r.code != 0 || strings.Contains(r.out, "${TUNNEL_ID}") || strings.Contains(r.err, "cloudflare-tunnel-secret") {
		t.Errorf("with the Secret given: exit %d, the tunnel variable or its warning remains\n%s\n%s", r.code, r.out, r.err)
	}
}

// TestBuildResourceSetProvidersBuiltLater: ResourceSets whose input
// providers a later Kustomization declares render with them (nothing is
// silently dropped), and the Kustomization one generates is built.
func TestBuildResourceSetProvidersBuiltLater(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "resourceset-providers"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"# Kustomization: flux-system/app-web (path ./apps/web)", "name: region-eu\n", "name: region-us\n", "  targetNamespace: web\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	r = runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 || strings.Contains(r.out, "[resourceset]") {
		t.Errorf("validate: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
