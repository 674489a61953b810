package build_test

import (
	"path/filepath"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// fidelityRepo returns testdata/fidelity/<name>/repo: repositories written
// in the patterns real Flux repositories use, where slipway once built
// something other than what Flux applies.
func fidelityRepo(t *testing.T, name string) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", name, "repo")
}

// TestSourceIgnoreReincludesDirectory: GitRepository spec.ignore "/*" then
// "!/kubernetes" keeps kubernetes/** (source-controller matches each file
// from the source root), and a later "*.sample.yaml" still hides samples.
func TestSourceIgnoreReincludesDirectory(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "source-ignore"), "kubernetes/clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	kb := mustKustomization(t, cb, "flux-system", "apps")
	mustObject(t, kb, "Namespace", "", "demo")
	mustObject(t, kb, "ConfigMap", "demo", "web")
	if o := object(kb, "ConfigMap", "demo", "web-sample"); o != nil {
		t.Errorf("the ignored %s was built", o.Origin)
	}
	if len(kb.Objects) != 2 {
		t.Errorf("built %d objects, want 2", len(kb.Objects))
	}
}

// TestEncryptedSecretSubstituted: an encrypted Secret that cannot be
// decrypted is still substituted as a whole document (only its values are
// opaque), so ${APP} in its name gives one Secret per app; and an
// expression over a variable whose Secret is encrypted stays as written.
func TestEncryptedSecretSubstituted(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "sops-substitution"), "clusters/dev", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	for _, app := range []string{"radarr", "sonarr"} {
		kb := mustKustomization(t, cb, "flux-system", app)
		s := mustObject(t, kb, "Secret", "media", app+"-volsync-secret")
		if !s.Encrypted {
			t.Errorf("%s: the Secret is not marked encrypted", app)
		}
		if _, ok := s.Object.Object["sops"]; !ok {
			t.Errorf("%s: substitution lost the sops metadata", app)
		}
		cm := mustObject(t, kb, "ConfigMap", "media", app+"-routes")
		if got, want := str(t, cm.Object, "data", "host"), app+".${DOMAIN/./-}.internal"; got != want {
			t.Errorf("%s: host = %q, want %q", app, got, want)
		}
	}
	info := 0
	for _, f := range cb.Findings {
		if f.Check == "sops" && f.Object != nil && f.Object.Name == "${APP}-volsync-secret" {
			t.Errorf("a finding names the unsubstituted Secret: %s", f.Message)
		}
		if f.Severity == "info" {
			info++
		}
	}
	if info == 0 {
		t.Error("no info finding says the Secrets were not decrypted")
	}
}
