package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/hack/fidelity/compare"
)

// TestPrepareInlinesConfigMapVariables: the Flux CLI's --dry-run skips
// substituteFrom, so the harness hands it the ConfigMaps' variables
// inline, in Flux's order (later entries win, substitute wins over all).
func TestPrepareInlinesConfigMapVariables(t *testing.T) {
	var ks map[string]any
	if err := yaml.Unmarshal([]byte(`
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: web, namespace: flux-system}
spec:
  path: ./apps/web
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substitute: {C: own}
    substituteFrom:
    - {kind: ConfigMap, name: first}
    - {kind: ConfigMap, name: second}
    - {kind: ConfigMap, name: absent, optional: true}
    - {kind: Secret, name: secrets}
`), &ks); err != nil {
		t.Fatal(err)
	}
	cm := func(name string, data map[string]any) compare.Object {
		return compare.NewObject(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "flux-system"}, "data": data})
	}
	objects := []compare.Object{cm("first", map[string]any{"A": "1", "B": "1", "C": "1"}), cm("second", map[string]any{"B": "2"})}
	b, c, err := prepare(ks, "/src", objects)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecretVariables || b.dir != "/src/apps/web" || b.name != "web" || b.namespace != "flux-system" {
		t.Errorf("got %+v %+v", b, c)
	}
	got := string(b.kustomization)
	if !strings.Contains(got, "substitute:\n      A: \"1\"\n      B: \"2\"\n      C: own\n") || strings.Contains(got, "substituteFrom") {
		t.Errorf("kustomization given to Flux:\n%s", got)
	}
	delete(objects[0].Body, "data")
	ks["spec"].(map[string]any)["postBuild"].(map[string]any)["substituteFrom"] = []any{map[string]any{"kind": "ConfigMap", "name": "missing"}}
	if _, _, err := prepare(ks, "/src", objects); err == nil {
		t.Error("a required ConfigMap missing from slipway's output was not an error")
	}
}

func TestParseStream(t *testing.T) {
	objs, err := parseStream([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\ndata:\n  k: \"---\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].ID.Name != "a" || objs[1].ID.Kind != "Namespace" {
		t.Errorf("got %+v", objs)
	}
	// A literal block ending a document keeps its final newline.
	objs, err = parseStream([]byte("kind: ConfigMap\ndata:\n  k: |\n    v\n---\nkind: Namespace\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := objs[0].Body["data"].(map[string]any)["k"]; got != "v\n" {
		t.Errorf("literal block: %q", got)
	}
}

// TestExternalConfigMaps: the ConfigMaps of --external-objects files feed
// the Flux CLI's variables; Secrets never enter the harness.
func TestExternalConfigMaps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "external.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: flux-system}\ndata: {K: v}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {P: hunter2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--path", "x", "--external-objects", file}, {"--external-objects=" + file}} {
		objs, err := externalConfigMaps(args)
		if err != nil || len(objs) != 1 || objs[0].ID.Name != "a" {
			t.Errorf("%q: %+v %v", args, objs, err)
		}
	}
	if objs, err := externalConfigMaps([]string{"--path", "x"}); err != nil || len(objs) != 0 {
		t.Errorf("no file: %+v %v", objs, err)
	}
}
