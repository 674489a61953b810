package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

// Deploy output lists each release's action, revision and chart, says why
// one failed, and masks secret values Helm's errors may quote.
func TestDeployTextListsReleases(t *testing.T) {
	const secret = "v4lue-from-a-secret"
	cd := &result.ClusterDeploy{Path: "clusters/x", Kustomizations: []*result.KustomizationDeploy{{
		Ref:    result.KustomizationRef{Namespace: "flux-system", Name: "apps"},
		Status: result.StatusFailed,
		Releases: []*result.ReleaseDeploy{
			{Ref: result.KustomizationRef{Namespace: "web", Name: "front"}, ReleaseName: "front", Action: result.ReleaseUpgraded,
				Revision: 3, Chart: result.ChartRef{Name: "front", Version: "1.2.3"}, Message: "upgraded"},
			{Ref: result.KustomizationRef{Namespace: "web", Name: "back"}, ReleaseName: "back", Action: result.ReleaseRolledBack,
				Revision: 4, Chart: result.ChartRef{Name: "back", Version: "2.0.0"}, Message: `upgrade failed: "` + secret + `" is invalid; rolled back to revision 3`},
		},
	}}}
	var b bytes.Buffer
	if err := DeployText(&b, []*result.ClusterDeploy{cd}, NewMasker([]string{secret})); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"► HelmRelease/web/front upgraded (release front, revision 3, chart front@1.2.3)\n",
		"✗ HelmRelease/web/back rolled back (release back, revision 4, chart back@2.0.0): upgrade failed: \"" + Redacted + "\" is invalid; rolled back to revision 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("output leaks the secret:\n%s", out)
	}
}
