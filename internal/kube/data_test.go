package kube

import (
	"maps"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDataValues(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"data":       map[string]any{"a": "aGVsbG8=", "b": "not base64!", "c": "b2xk"},
		"stringData": map[string]any{"c": "new"},
	}}
	if got, want := DataValues(secret), map[string]string{"a": "hello", "b": "not base64!", "c": "new"}; !maps.Equal(got, want) {
		t.Errorf("Secret: %v, want %v", got, want)
	}
	// A ConfigMap's data is text as it is; it has no stringData.
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"data":       map[string]any{"a": "aGVsbG8="},
		"stringData": map[string]any{"a": "ignored"},
	}}
	if got, want := DataValues(cm), map[string]string{"a": "aGVsbG8="}; !maps.Equal(got, want) {
		t.Errorf("ConfigMap: %v, want %v", got, want)
	}
}
