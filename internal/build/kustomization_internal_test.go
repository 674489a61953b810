package build

import (
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
)

// A dependsOn without namespace names the Kustomization's own, as in Flux.
func TestNewKustomizationBuildDefaultsDependsOnNamespace(t *testing.T) {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"}}
	ks.Spec.Suspend = true
	ks.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "infra"}, {Name: "crds", Namespace: "other"}}
	kb := newKustomizationBuild(&unit{ks: ks}, "flux-system")
	want := []result.KustomizationRef{{Namespace: "flux-system", Name: "infra"}, {Namespace: "other", Name: "crds"}}
	if len(kb.DependsOn) != 2 || kb.DependsOn[0] != want[0] || kb.DependsOn[1] != want[1] {
		t.Errorf("DependsOn = %v, want %v", kb.DependsOn, want)
	}
	if !kb.Suspended || kb.Source != "flux-system" || kb.Ref != (result.KustomizationRef{Namespace: "flux-system", Name: "apps"}) {
		t.Errorf("build = %+v", kb)
	}
}

// The owner labels win over commonMetadata, as kustomize-controller sets
// them last.
func TestSetOwnerMetadataAfterCommonMetadata(t *testing.T) {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"}}
	ks.Spec.CommonMetadata = &kustomizev1.CommonMetadata{
		Labels:      map[string]string{"team": "a", "kustomize.toolkit.fluxcd.io/name": "spoofed"},
		Annotations: map[string]string{"note": "x"},
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}}}
	setOwnerMetadata([]result.Object{{Object: u}}, ks)
	labels := u.GetLabels()
	if labels["team"] != "a" || labels["kustomize.toolkit.fluxcd.io/name"] != "apps" || labels["kustomize.toolkit.fluxcd.io/namespace"] != "flux-system" {
		t.Errorf("labels = %v", labels)
	}
	if u.GetAnnotations()["note"] != "x" {
		t.Errorf("annotations = %v", u.GetAnnotations())
	}
}
