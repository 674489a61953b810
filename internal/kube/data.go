package kube

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DataValues returns a ConfigMap's data, or a Secret's data (base64
// decoded) with stringData overriding it: the values the API server would
// present. A data value that is not valid base64 is kept as written.
func DataValues(obj *unstructured.Unstructured) map[string]string {
	secret := obj.GetKind() == "Secret"
	out := map[string]string{}
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	for k, v := range data {
		s, _ := v.(string)
		if secret {
			if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
				s = string(dec)
			}
		}
		out[k] = s
	}
	if secret {
		sd, _, _ := unstructured.NestedMap(obj.Object, "stringData")
		for k, v := range sd {
			s, _ := v.(string)
			out[k] = s
		}
	}
	return out
}
