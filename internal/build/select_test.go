package build_test

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
)

func selObj(apiVersion, kind, ns, name string) result.Object {
	return result.Object{Object: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name, "namespace": ns}}}}
}

func TestSelection(t *testing.T) {
	apps := result.KustomizationRef{Namespace: "flux-system", Name: "apps"}
	infra := result.KustomizationRef{Namespace: "flux-system", Name: "infra"}
	web := result.KustomizationRef{Namespace: "web", Name: "podinfo"}
	hr := selObj("helm.toolkit.fluxcd.io/v2", "HelmRelease", "web", "podinfo")
	cm := selObj("v1", "ConfigMap", "web", "plain")
	rendered := selObj("apps/v1", "Deployment", "web", "podinfo")
	infraObj := selObj("v1", "Namespace", "", "infra")
	hrID, renderedID, cmID := hr.ID(), rendered.ID(), cm.ID()
	cb := &result.ClusterBuild{Path: "clusters/a",
		Kustomizations: []*result.KustomizationBuild{
			{Ref: apps, Objects: []result.Object{hr, cm}, Releases: []*result.ReleaseBuild{{Ref: web, Objects: []result.Object{rendered}}}},
			{Ref: infra, Objects: []result.Object{infraObj}},
		},
		Findings: []result.Finding{
			{Check: "helm", Kustomization: &apps, Object: &hrID, Message: "release"},
			{Check: "schema", Kustomization: &apps, Object: &renderedID, Message: "rendered"},
			{Check: "schema", Kustomization: &apps, Object: &cmID, Message: "own object"},
			{Check: "schema", Kustomization: &infra, Message: "infra"},
			{Check: "source", Message: "cluster-wide"},
		}}
	builds := []*result.ClusterBuild{cb}

	all := build.Selection{}.Apply(builds)
	if len(all[0].Kustomizations) != 2 || len(all[0].Findings) != 5 {
		t.Errorf("an empty selection should keep everything")
	}

	got := build.Selection{HelmReleases: []result.KustomizationRef{web}}.Apply(builds)[0]
	if len(got.Kustomizations) != 1 || len(got.Kustomizations[0].Objects) != 0 || len(got.Kustomizations[0].Releases) != 1 {
		t.Fatalf("a HelmRelease: %+v, want its Kustomization with the release only", got.Kustomizations)
	}
	var msgs []string
	for _, f := range got.Findings {
		msgs = append(msgs, f.Message)
	}
	if len(msgs) != 3 || msgs[0] != "release" || msgs[1] != "rendered" || msgs[2] != "cluster-wide" {
		t.Errorf("findings of a HelmRelease selection: %v", msgs)
	}
	if len(cb.Kustomizations[0].Objects) != 2 || len(cb.Findings) != 5 {
		t.Error("Apply modified the builds it was given")
	}

	got = build.Selection{Kustomizations: []result.KustomizationRef{infra}}.Apply(builds)[0]
	if len(got.Kustomizations) != 1 || got.Kustomizations[0].Ref != infra || len(got.Findings) != 2 {
		t.Errorf("a Kustomization: %+v, findings %+v", got.Kustomizations, got.Findings)
	}

	var unknown *build.UnknownSelectionError
	err := build.Selection{HelmReleases: []result.KustomizationRef{{Namespace: "web", Name: "nope"}}}.Check(builds)
	if !errors.As(err, &unknown) || unknown.Kind != "HelmRelease" {
		t.Errorf("unknown HelmRelease: %v", err)
	}
	if err := (build.Selection{Kustomizations: []result.KustomizationRef{infra}}).Check(nil, builds); err != nil {
		t.Errorf("a name in one of the build lists is known: %v", err)
	}
	if _, err := build.ParseRef("apps"); err == nil {
		t.Error("ParseRef accepted a name without namespace")
	}
}
