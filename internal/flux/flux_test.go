package flux

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
)

func ref(n string) result.KustomizationRef {
	return result.KustomizationRef{Namespace: "flux-system", Name: n}
}

func TestGraphLevelsAndCycles(t *testing.T) {
	g := NewGraph(map[result.KustomizationRef][]result.KustomizationRef{
		ref("infra"):   nil,
		ref("configs"): {ref("infra")},
		ref("apps"):    {ref("configs"), ref("ghost")},
		ref("a"):       {ref("b")},
		ref("b"):       {ref("a")},
	})
	levels := g.Levels()
	want := [][]result.KustomizationRef{{ref("infra")}, {ref("configs")}, {ref("apps")}}
	if !reflect.DeepEqual(levels, want) {
		t.Errorf("levels = %v, want %v (cycle members left out)", levels, want)
	}
	if m := g.Missing(); len(m) != 1 || m[ref("apps")][0] != ref("ghost") {
		t.Errorf("missing = %v", m)
	}
	cycles := g.Cycles()
	if len(cycles) != 1 || len(cycles[0]) != 2 || cycles[0][0] != ref("a") {
		t.Errorf("cycles = %v, want one a -> b", cycles)
	}
}

func TestDecodeKustomizationStrict(t *testing.T) {
	u := parse(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`)
	ks, err := DecodeKustomization(u)
	if err != nil {
		t.Fatal(err)
	}
	if ks.Spec.SourceRef.Namespace != "flux-system" || ks.Spec.Path != "./apps" {
		t.Errorf("decoded %+v", ks.Spec)
	}
	u.Object["spec"].(map[string]any)["prunee"] = true
	if _, err := DecodeKustomization(u); err == nil || !strings.Contains(err.Error(), "prunee") {
		t.Errorf("unknown field accepted: %v", err)
	}
	u.SetAPIVersion("kustomize.toolkit.fluxcd.io/v1beta1")
	if _, err := DecodeKustomization(u); err == nil {
		t.Error("old apiVersion accepted")
	}
}

func parse(t testing.TB, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// FuzzDecodeKustomization: any YAML document decodes or errors, never panics.
func FuzzDecodeKustomization(f *testing.F) {
	f.Add([]byte("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\nspec: {path: ./x, sourceRef: {kind: GitRepository, name: f}, interval: 1m, prune: true}\n"))
	f.Add([]byte("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec: {dependsOn: [{name: 1}], timeout: x}\n"))
	f.Add([]byte("apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nspec: {artifacts: [{name: a, copy: [{from: '@x/**', to: '@artifact/'}]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil || u.Object == nil {
			return
		}
		_, _ = DecodeKustomization(u)
		_, _ = DecodeGitRepository(u)
		_, _ = DecodeArtifactGenerator(u)
	})
}
