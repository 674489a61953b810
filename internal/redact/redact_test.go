package redact_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/redact"
)

func TestMasker(t *testing.T) {
	m := redact.NewMasker([]string{"hunter2", "hunter2-extended", "on", "line one\n  line two  "})
	got := m.Mask("a=hunter2-extended b=hunter2 c=on d=line two")
	want := "a=" + redact.Marker + " b=" + redact.Marker + " c=on d=" + redact.Marker
	if got != want {
		t.Errorf("Mask = %q, want %q (longest first; values under 4 characters left; multi-line values masked line by line)", got, want)
	}
	var nilMasker *redact.Masker
	if nilMasker.Mask("x") != "x" {
		t.Error("a nil Masker must pass text through")
	}
}

func TestSecret(t *testing.T) {
	s := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "db"},
		"data":       map[string]any{"password": "aHVudGVyMg=="},
		"stringData": map[string]any{"user": "admin"},
	}}
	r := redact.Secret(s)
	if r.Object["data"].(map[string]any)["password"] != redact.Marker || r.Object["stringData"].(map[string]any)["user"] != redact.Marker {
		t.Errorf("values not redacted: %v", r.Object)
	}
	if s.Object["data"].(map[string]any)["password"] != "aHVudGVyMg==" {
		t.Error("the original was changed")
	}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"k": "v"}}}
	if redact.Secret(cm) != cm {
		t.Error("a ConfigMap must be returned as it is")
	}
}
