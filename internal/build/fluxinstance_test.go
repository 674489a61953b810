package build_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/result"
)

// infoFinding returns the first info finding of a check whose message
// holds want.
func infoFinding(cb *result.ClusterBuild, check, want string) *result.Finding {
	for i, f := range cb.Findings {
		if f.Severity == result.SeverityInfo && f.Check == check && strings.Contains(f.Message, want) {
			return &cb.Findings[i]
		}
	}
	return nil
}

// TestFluxInstanceNamesTheRoot: a repository bootstrapped by Flux
// Operator has no gotk-sync.yaml; its FluxInstance's spec.sync.name names
// the source the Kustomizations use and the root Kustomization.
func TestFluxInstanceNamesTheRoot(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "flux-operator"), "clusters/prod", buildConfig{})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	mustObject(t, mustKustomization(t, cb, "flux-system", "apps"), "ConfigMap", "prod", "app")
	root := mustKustomization(t, cb, "flux-system", "fleet")
	if cb.Kustomizations[0] != root {
		t.Errorf("the root is %s, want flux-system/fleet first", cb.Kustomizations[0].Ref)
	}
	if kustomization(cb, "flux-system", "flux-system") != nil {
		t.Error("the bootstrap root flux-system/flux-system is still built")
	}
	f := infoFinding(cb, "flux", "FluxInstance flux-system/flux installs Flux")
	if f == nil || f.Origin.File != "clusters/prod/flux-system/flux-instance.yaml" {
		t.Fatalf("no info finding at the FluxInstance:\n%s", findingsText(cb))
	}
	if !strings.Contains(f.Message, "GitRepository/flux-system/fleet") {
		t.Errorf("finding: %s", f.Message)
	}
	// A chart from the root source is read from this repository, though
	// only the operator declares that GitRepository.
	rb := release(t, root, "prod", "greeter")
	if rb.Err != nil || len(rb.Objects) != 1 {
		t.Errorf("chart from the root source: %v", rb.Err)
	}
	// The root's own objects carry the root's name, as Flux labels them.
	o := mustObject(t, root, "FluxInstance", "flux-system", "flux")
	if got := o.Object.GetLabels()["kustomize.toolkit.fluxcd.io/name"]; got != "fleet" {
		t.Errorf("root object labelled %q, want fleet", got)
	}
}

// TestFluxInstanceChartValues: the flux-instance chart's
// values.instance.sync names the root too; without sync.name the
// operator uses the release namespace.
func TestFluxInstanceChartValues(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "flux-operator"), "clusters/staging", buildConfig{})
	mustObject(t, mustKustomization(t, cb, "flux-operator", "apps"), "ConfigMap", "staging", "app")
	mustKustomization(t, cb, "flux-operator", "flux-operator")
	if infoFinding(cb, "flux", "HelmRelease flux-operator/flux (chart flux-instance) installs Flux") == nil {
		t.Errorf("no info finding at the HelmRelease:\n%s", findingsText(cb))
	}
	for _, f := range errorFindings(cb) {
		// The chart itself is on a registry the test does not serve.
		if f.Check != "helm" {
			t.Errorf("unexpected error: %s", f.Message)
		}
	}
}

// TestRootSourceFlag: a root defined outside the repository is named with
// --root-source; without it the Kustomizations' source is missing.
func TestRootSourceFlag(t *testing.T) {
	cb := buildOne(t, fidelityRepo(t, "flux-operator"), "clusters/edge", buildConfig{})
	if kb := mustKustomization(t, cb, "flux-system", "apps"); kb.Err == nil || !strings.Contains(kb.Err.Error(), "no such GitRepository") ||
		!strings.Contains(kb.Err.Error(), "name it with --root-source GitRepository/flux-system/infra") {
		t.Fatalf("without --root-source: %v", kb.Err)
	}
	rs, err := build.ParseRootSource("GitRepository/flux-system/infra")
	if err != nil {
		t.Fatal(err)
	}
	cb = buildOne(t, fidelityRepo(t, "flux-operator"), "clusters/edge", buildConfig{rootSource: &rs})
	if errs := errorFindings(cb); len(errs) > 0 {
		t.Fatalf("errors:\n%s", findingsText(cb))
	}
	mustKustomization(t, cb, "flux-system", "infra")
	mustObject(t, mustKustomization(t, cb, "flux-system", "apps"), "ConfigMap", "edge", "app")
	// A FluxInstance never overrides the flag.
	rs = build.RootSource{Kind: "GitRepository", Namespace: "flux-system", Name: "fleet"}
	cb = buildOne(t, fidelityRepo(t, "flux-operator"), "clusters/prod", buildConfig{rootSource: &rs})
	if infoFinding(cb, "flux", "--root-source names the root instead") == nil {
		t.Errorf("no finding about the FluxInstance:\n%s", findingsText(cb))
	}
}

// TestParseRootSource: KIND/NAMESPACE/NAME with a kind a root can have.
func TestParseRootSource(t *testing.T) {
	for in, want := range map[string]string{
		"GitRepository/flux-system/flux-system": "GitRepository/flux-system/flux-system",
		"ocirepository/flux-system/fleet":       "OCIRepository/flux-system/fleet",
		"HelmRepository/flux-system/x":          "",
		"GitRepository/flux-system":             "",
		"GitRepository//x":                      "",
	} {
		got, err := build.ParseRootSource(in)
		if want == "" {
			if err == nil {
				t.Errorf("%q accepted as %s", in, got)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("%q: got %s, %v; want %s", in, got, err, want)
		}
	}
}
