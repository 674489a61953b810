package build_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// promisedWarnings returns the substitution warnings about Secrets only a
// controller in the cluster makes, by Kustomization name.
func promisedWarnings(cb *result.ClusterBuild) map[string]result.Finding {
	out := map[string]result.Finding{}
	for _, f := range cb.Findings {
		if f.Check == "substitution" && f.Severity == result.SeverityWarning && strings.Contains(f.Message, "unknown offline") {
			out[f.Kustomization.Name] = f
		}
	}
	return out
}

// TestExternalSecretTargetsOffline: substituteFrom Secrets made by an
// ExternalSecret (listed keys; dataFrom) and a SealedSecret of the
// cluster path do not fail the build: what other sources and defaults
// give is substituted, the Secrets' variables are left exactly as
// written, and each Kustomization says so once, naming the maker's line.
func TestExternalSecretTargetsOffline(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "external-secret"), "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	home := mustObject(t, mustKustomization(t, cb, "flux-system", "home"), "ConfigMap", "default", "home")
	for field, want := range map[string]string{
		"host":  "home.example.org",
		"token": "${HOME_TOKEN}",
		"slug":  "${HOME_TOKEN/-/_}",
		// The Secret lists TIMEZONE after the ConfigMap's: its value,
		// unknown, wins over both the ConfigMap and the default.
		"tz":  "${TIMEZONE:=UTC}",
		"log": "level-info",
	} {
		if got := str(t, home.Object, "data", field); got != want {
			t.Errorf("home %s = %q, want %q", field, got, want)
		}
	}
	tunnel := mustObject(t, mustKustomization(t, cb, "flux-system", "cloudflared"), "ConfigMap", "default", "cloudflared")
	for field, want := range map[string]string{
		"tunnel":   "${TUNNEL_ID}",
		"hostname": "ingress.example.org",
		"protocol": "quic",
	} {
		if got := str(t, tunnel.Object, "data", field); got != want {
			t.Errorf("cloudflared %s = %q, want %q", field, got, want)
		}
	}
	db := mustObject(t, mustKustomization(t, cb, "flux-system", "db"), "ConfigMap", "default", "db")
	if got, want := str(t, db.Object, "data", "dsn"), "postgres://app:${DB_PASSWORD}@db:5432/app"; got != want {
		t.Errorf("db dsn = %q, want %q", got, want)
	}
	warnings := promisedWarnings(cb)
	for name, want := range map[string]string{
		"home":        "Secret flux-system/home-secret (made by ExternalSecret flux-system/home-secret at kubernetes/platform/externalsecrets.yaml:1)",
		"cloudflared": "Secret flux-system/cloudflare-tunnel-secret (made by ExternalSecret flux-system/cloudflare-tunnel at kubernetes/platform/externalsecrets.yaml:21)",
		"db":          "Secret flux-system/db-credentials (made by SealedSecret flux-system/db-credentials at kubernetes/platform/sealedsecret.yaml:1)",
		// Its own output holds the ExternalSecret.
		"echo": "Secret flux-system/echo-secret (made by ExternalSecret flux-system/echo at kubernetes/echo/externalsecret.yaml:1)",
	} {
		f, ok := warnings[name]
		if !ok {
			t.Errorf("%s: no warning about its promised Secret:\n%s", name, findingsText(cb))
			continue
		}
		if !strings.Contains(f.Message, want) || !strings.Contains(f.Message, "--external-objects") {
			t.Errorf("%s: warning %q lacks %q", name, f.Message, want)
		}
		if f.Origin.File != "clusters/dev/apps.yaml" || f.Origin.Line == 0 {
			t.Errorf("%s: warning at %s, want the Kustomization's line", name, f.Origin)
		}
	}
	echo := mustObject(t, mustKustomization(t, cb, "flux-system", "echo"), "ConfigMap", "default", "echo")
	if got, want := str(t, echo.Object, "data", "tunnel"), "${ECHO_TUNNEL_ID}"; got != want {
		t.Errorf("echo tunnel = %q, want %q", got, want)
	}
	if len(warnings) != 4 {
		t.Errorf("%d warnings, want one per Kustomization:\n%s", len(warnings), findingsText(cb))
	}
}

// TestExternalObjectsWinOverExternalSecret: the Secret given with
// --external-objects is used; only the others stay unknown.
func TestExternalObjectsWinOverExternalSecret(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", "external-secret")
	cb := buildOne(t, filepath.Join(dir, "repo"), "clusters/dev", buildConfig{external: []string{filepath.Join(dir, "external.yaml")}})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	tunnel := mustObject(t, mustKustomization(t, cb, "flux-system", "cloudflared"), "ConfigMap", "default", "cloudflared")
	if got, want := str(t, tunnel.Object, "data", "tunnel"), "6ff42ae2-765d-4adf-8112-31c55c1551ef"; got != want {
		t.Errorf("tunnel = %q, want %q (from the external Secret)", got, want)
	}
	warnings := promisedWarnings(cb)
	if _, ok := warnings["cloudflared"]; ok || len(warnings) != 3 {
		t.Errorf("warnings for %v, want home, db and echo only", warnings)
	}
}

// TestExternalSecretTargetConnected: connected to a cluster that lacks
// the Secret, the Kustomization fails as Flux fails it (not found)
// rather than applying unresolved expressions.
func TestExternalSecretTargetConnected(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", "external-secret")
	cb := buildOne(t, filepath.Join(dir, "repo"), "clusters/dev", buildConfig{external: []string{filepath.Join(dir, "external.yaml")}, externalIsCluster: true})
	failed := map[string]bool{}
	for _, f := range errorFindings(cb) {
		if f.Kustomization != nil && strings.Contains(f.Message, "not found") {
			failed[f.Kustomization.Name] = true
		}
	}
	if !failed["home"] || !failed["db"] || !failed["echo"] || failed["cloudflared"] || len(failed) != 3 {
		t.Errorf("failed %v, want home, db and echo (their Secrets are not in the cluster):\n%s", failed, findingsText(cb))
	}
	if w := promisedWarnings(cb); len(w) != 0 {
		t.Errorf("offline warnings when connected: %v", w)
	}
}
