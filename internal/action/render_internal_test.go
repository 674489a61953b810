package action

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// The check run's picture shows HelmReleases next to Kustomizations, with
// their dependsOn (on either kind) and their own outcome.
func TestMermaidShowsHelmReleases(t *testing.T) {
	infra := result.KustomizationRef{Namespace: "flux-system", Name: "infra"}
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	db := result.KustomizationRef{Namespace: "shop", Name: "db"}
	web := result.KustomizationRef{Namespace: "shop", Name: "web"}
	pr := &pathReport{
		path: "clusters/prod",
		build: &result.ClusterBuild{Path: "clusters/prod", Kustomizations: []*result.KustomizationBuild{
			{Ref: infra},
			{Ref: apps, DependsOn: []result.KustomizationRef{infra}, Releases: []*result.ReleaseBuild{
				{Ref: db, DependsOn: []result.KustomizationRef{infra}},
				{Ref: web, DependsOn: []result.KustomizationRef{db}},
			}},
		}},
		deploy: &result.ClusterDeploy{Path: "clusters/prod", Kustomizations: []*result.KustomizationDeploy{
			{Ref: infra, Status: result.StatusApplied},
			{Ref: apps, Status: result.StatusFailed, Releases: []*result.ReleaseDeploy{
				{Ref: db, Action: result.ReleaseInstalled},
				{Ref: web, Action: result.ReleaseRolledBack},
			}},
		}},
	}
	text := pathText(pr, report.NewMasker(nil))
	for _, want := range []string{
		`k0["flux-system/infra"]`,
		`h0(["HelmRelease shop/db"])`,
		`h1(["HelmRelease shop/web"])`,
		"k1 -.- h0", "k1 -.- h1", // held by apps
		"k0 --> k1", // apps dependsOn infra
		"k0 --> h0", // db dependsOn a Kustomization
		"h0 --> h1", // web dependsOn a HelmRelease
	} {
		if !strings.Contains(text, want) {
			t.Errorf("graph lacks %q:\n%s", want, text)
		}
	}
	// db installed: green; web rolled back: red, like its Kustomization.
	if !strings.Contains(text, "class k0,h0 ok") && !strings.Contains(text, "class h0,k0 ok") {
		t.Errorf("infra and db should be green:\n%s", text)
	}
	if !strings.Contains(text, "class k1,h1 failed") {
		t.Errorf("apps and web should be red:\n%s", text)
	}
}
