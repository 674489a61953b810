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

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		`Get "http://user:s3cret@charts.example.test/index.yaml": refused`: `Get "http://user:**redacted**@charts.example.test/index.yaml": refused`,
		"oci://robot:pa$$word@registry.example.test/charts":                "oci://robot:**redacted**@registry.example.test/charts",
		"https://ghp_abcdefTOKEN@github.com/acme/fleet":                    "https://**redacted**@github.com/acme/fleet",
		"ssh://git@github.com/acme/fleet":                                  "ssh://git@github.com/acme/fleet",
		"https://github.com/acme/fleet (no credentials)":                   "https://github.com/acme/fleet (no credentials)",
		"image: ghcr.io/x/y@sha256:abc, mail a@b.example":                  "image: ghcr.io/x/y@sha256:abc, mail a@b.example",
		"two: http://a:one@h1/ and https://b:two@h2/":                      "two: http://a:**redacted**@h1/ and https://b:**redacted**@h2/",
		"https://user:@host/":                                              "https://user:**redacted**@host/",
	} {
		if got := redact.URLs(in); got != want {
			t.Errorf("URLs(%q) = %q, want %q", in, got, want)
		}
	}
	// Every masker redacts URLs, even one with no values.
	if got := redact.NewMasker(nil).Mask("http://u:p4ss@h/"); got != "http://u:**redacted**@h/" {
		t.Errorf("masker: %q", got)
	}
}

func TestCounterpart(t *testing.T) {
	m := redact.NewMasker([]string{"new-s3cret"})
	desired := map[string]any{"data": map[string]any{
		"url":   "postgres://app:new-s3cret@db",
		"same":  "token new-s3cret",
		"plain": "v2",
	}, "list": []any{"a", "new-s3cret"}}
	live := map[string]any{"data": map[string]any{
		"url":   "postgres://app:old-s3cret@db",
		"same":  "token new-s3cret",
		"plain": "v1",
	}, "list": []any{"a", "old-s3cret", "extra"}}
	redact.Counterpart(desired, live, m)
	d := live["data"].(map[string]any)
	if d["url"] != redact.Marker || d["plain"] != "v1" || d["same"] != "token new-s3cret" {
		t.Errorf("live data: %v", d)
	}
	if l := live["list"].([]any); l[0] != "a" || l[1] != redact.Marker || l[2] != "extra" {
		t.Errorf("live list: %v", l)
	}
}
