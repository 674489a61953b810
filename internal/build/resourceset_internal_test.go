package build

import (
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/slipwayhq/slipway/internal/flux"
)

func rsJSON(t *testing.T, v any) *apiextensionsv1.JSON {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

func names(t *testing.T, rs *flux.ResourceSet, providers ...*flux.ResourceSetInputProvider) (string, error) {
	t.Helper()
	objs, err := renderResourceSet(rs, providers)
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return strings.Join(out, ","), err
}

func cm(name string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "default"}}
}

// TestRenderResourceSet follows the operator's own cases: flatten keeps
// input order, duplicates collapse, reconcile: disabled drops an object,
// Permute crosses providers with the operator's ids, and a step may not
// repeat another step's object.
func TestRenderResourceSet(t *testing.T) {
	static := func(name string, values map[string]any) *flux.ResourceSetInputProvider {
		p := &flux.ResourceSetInputProvider{Namespace: "ns", Name: name}
		p.Spec.Type, p.Spec.DefaultValues = flux.InputProviderStatic, values
		return p
	}
	t.Run("flatten, dedup, disabled", func(t *testing.T) {
		disabled := cm("<< inputs.x >>-off")
		disabled["metadata"].(map[string]any)["annotations"] = map[string]any{"fluxcd.controlplane.io/reconcile": `<< if eq inputs.x "b" >>disabled<< else >>enabled<< end >>`}
		rs := &flux.ResourceSet{Namespace: "ns", Name: "rs", Spec: flux.ResourceSetSpec{
			Inputs:     []map[string]any{{"x": "a"}, {"x": "b"}, {"x": "a"}},
			Resources:  []*apiextensionsv1.JSON{rsJSON(t, cm("<< inputs.x >>")), rsJSON(t, disabled), rsJSON(t, cm("shared"))},
			InputsFrom: []flux.InputProviderReference{{Name: "extra"}},
		}}
		got, err := names(t, rs, static("extra", map[string]any{"x": "c"}))
		if err != nil || got != "a,b,c,a-off,c-off,shared" {
			t.Errorf("got %q, %v", got, err)
		}
	})
	t.Run("permute", func(t *testing.T) {
		rs := &flux.ResourceSet{Namespace: "ns", Name: "my-rs", Spec: flux.ResourceSetSpec{
			InputStrategy: &flux.InputStrategySpec{Name: flux.InputStrategyPermute},
			Inputs:        []map[string]any{{"x": "a"}, {"x": "b"}},
			InputsFrom:    []flux.InputProviderReference{{Name: "Env.Config"}},
			Resources:     []*apiextensionsv1.JSON{rsJSON(t, cm("<< inputs.my_rs.x >>-<< inputs.env_config.e >>-<< inputs.id >>"))},
		}}
		got, err := names(t, rs, static("Env.Config", map[string]any{"e": "prod"}))
		want := "a-prod-" + inputID("my_rs=0/env_config=0") + ",b-prod-" + inputID("my_rs=1/env_config=0")
		if err != nil || got != want {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	})
	t.Run("numbers as the operator decodes them", func(t *testing.T) {
		rs := &flux.ResourceSet{Namespace: "ns", Name: "rs", Spec: flux.ResourceSetSpec{
			Inputs:    []map[string]any{{"n": int64(1000000)}},
			Resources: []*apiextensionsv1.JSON{rsJSON(t, cm("x-<< inputs.n >>"))},
		}}
		if got, err := names(t, rs); err != nil || got != "x-1e+06" {
			t.Errorf("got %q, %v", got, err)
		}
	})
	t.Run("steps", func(t *testing.T) {
		rs := &flux.ResourceSet{Namespace: "ns", Name: "rs", Spec: flux.ResourceSetSpec{Steps: []flux.ResourceSetStep{
			{Name: "one", Resources: []*apiextensionsv1.JSON{rsJSON(t, cm("x"))}},
			{Name: "two", ResourcesTemplate: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n"},
		}}}
		if _, err := names(t, rs); err == nil || !strings.Contains(err.Error(), `already defined in step "one"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("static id is unknown offline", func(t *testing.T) {
		rs := &flux.ResourceSet{Namespace: "ns", Name: "rs", Spec: flux.ResourceSetSpec{
			InputsFrom: []flux.InputProviderReference{{Name: "p"}},
			Resources:  []*apiextensionsv1.JSON{rsJSON(t, cm("x-<< inputs.id >>"))},
		}}
		if _, err := names(t, rs, static("p", nil)); err == nil || !strings.Contains(err.Error(), "id") {
			t.Errorf("err = %v", err)
		}
	})
}
