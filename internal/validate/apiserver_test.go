package validate_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/validate"
)

func configMap(name string, value string) result.Object {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "dev"},
		"data":     map[string]any{"big": value},
	}}
	return result.Object{Object: u, Origin: result.Origin{File: "apps/cm.yaml", Line: 3}}
}

// Objects over etcd's default value size are a warning, over the API
// server's request limit an error; small ones pass.
func TestAPIServerCheckSizes(t *testing.T) {
	kb := &result.KustomizationBuild{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Objects: []result.Object{
		configMap("small", strings.Repeat("x", 1000)),
		configMap("large", strings.Repeat("é", 1<<20)), // 2 MiB of UTF-8
		configMap("huge", strings.Repeat("x", 4<<20)),
	}}
	cb := &result.ClusterBuild{Path: "clusters/dev", Kustomizations: []*result.KustomizationBuild{kb}}
	fs := validate.APIServerCheck{}.Run(cb)
	got := map[string]result.Finding{}
	for _, f := range fs {
		got[f.Object.Name] = f
	}
	if len(fs) != 2 {
		t.Fatalf("%d findings, want 2: %+v", len(fs), fs)
	}
	if f := got["large"]; f.Severity != result.SeverityWarning || !strings.Contains(f.Message, "etcd") || f.Origin.Line != 3 {
		t.Errorf("large: %+v", f)
	}
	if f := got["huge"]; f.Severity != result.SeverityError || !strings.Contains(f.Message, "request limit of 3 MiB") {
		t.Errorf("huge: %+v", f)
	}
}

// A Secret's invalid base64 is reported without its value.
func TestAPIServerCheckSecretValueNotShown(t *testing.T) {
	const value = "s3cr3t-not-base64!"
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "token", "namespace": "dev"},
		"data":     map[string]any{"token": value},
	}}
	kb := &result.KustomizationBuild{Objects: []result.Object{{Object: u}}}
	fs := validate.APIServerCheck{}.Run(&result.ClusterBuild{Kustomizations: []*result.KustomizationBuild{kb}})
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "data.token: not valid base64") || strings.Contains(fs[0].Message, value) {
		t.Fatalf("%+v", fs)
	}
	// A SOPS document that could not be decrypted holds ciphertext: not
	// checked.
	kb.Objects[0].Encrypted = true
	if fs := (validate.APIServerCheck{}).Run(&result.ClusterBuild{Kustomizations: []*result.KustomizationBuild{kb}}); len(fs) != 0 {
		t.Errorf("encrypted Secret: %+v", fs)
	}
}
