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
