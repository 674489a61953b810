package deploy

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestObjectFieldDrift(t *testing.T) {
	obj := func(kind string, fields map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": "x", "namespace": "app"}}}
		for k, v := range fields {
			u.Object[k] = v
		}
		return u
	}
	want := obj("ConfigMap", map[string]any{"data": map[string]any{"version": "20", "url": "db", "gone": "x"}, "binaryData": map[string]any{}})
	live := obj("ConfigMap", map[string]any{"data": map[string]any{"version": "edited", "url": "db", "extra": "y"}})
	live.SetResourceVersion("12")
	got := objectFieldDrift(live, want)
	exp := []FieldDrift{{Path: "data.gone", Missing: true, Want: "x"}, {Path: "data.version", Want: "20", Live: "edited"}}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("ConfigMap drift %+v, want %+v", got, exp)
	}
	// Lists element by element; numbers by value.
	dw := obj("Service", map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}})
	dl := obj("Service", map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": float64(80), "protocol": "TCP"}}}})
	if got := objectFieldDrift(dl, dw); len(got) != 0 {
		t.Errorf("defaults and number types are not drift: %+v", got)
	}
	dl.Object["spec"].(map[string]any)["ports"].([]any)[0].(map[string]any)["port"] = int64(81)
	if got := objectFieldDrift(dl, dw); len(got) != 1 || got[0].Path != "spec.ports[0].port" {
		t.Errorf("port change: %+v", got)
	}
	// Secret values are never shown; stringData is not compared.
	sw := obj("Secret", map[string]any{"data": map[string]any{"password": "czNjcmV0"}, "stringData": map[string]any{"k": "v"}})
	sl := obj("Secret", map[string]any{"data": map[string]any{"password": "b3RoZXI="}})
	got = objectFieldDrift(sl, sw)
	if len(got) != 1 || got[0].Path != "data.password" || got[0].Want != "" || got[0].Live != "" {
		t.Errorf("Secret drift %+v", got)
	}
}
