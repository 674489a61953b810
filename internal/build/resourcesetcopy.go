package build

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/kube"
)

// copyFromAnnotation on a ConfigMap or Secret a ResourceSet generates
// names (NAMESPACE/NAME) the object of the same kind whose data Flux
// Operator copies into it when it renders the set (its internal/copier,
// v0.59.0): tenants get a copy of a Secret or ConfigMap of flux-system.
const copyFromAnnotation = flux.OperatorGroup + "/copyFrom"

// CopyFromError is a copyFrom source that cannot be found. The operator
// then fails the whole ResourceSet: nothing of it is applied until the
// source exists in the cluster.
type CopyFromError struct {
	// Kind, Namespace and Name are the generated object's; From the
	// annotation's value.
	Kind, Namespace, Name, From string
	// Invalid: From is not NAMESPACE/NAME.
	Invalid bool
}

func (e *CopyFromError) Error() string {
	if e.Invalid {
		return fmt.Sprintf("%s %s/%s: %s annotation %q must be NAMESPACE/NAME", e.Kind, e.Namespace, e.Name, copyFromAnnotation, e.From)
	}
	return fmt.Sprintf("%s %s/%s copies its data from %s %s (%s), which the cluster path does not build and no --external-objects file holds; the operator applies nothing from this ResourceSet until it exists in the cluster",
		e.Kind, e.Namespace, e.Name, e.Kind, e.From, copyFromAnnotation)
}

// copyData fills the generated ConfigMaps and Secrets that carry the
// copyFrom annotation from the objects lookup finds, as the operator
// does: a ConfigMap's data (and binaryData, when the source has any); a
// Secret's values as stringData, and its type when the template sets
// none. A source SOPS-encrypted without a key is copied as it is, sops
// metadata included, so its values stay unknown downstream. It stops at
// the first source it cannot find.
func copyData(objects []*unstructured.Unstructured, lookup func(kind, namespace, name string) (*unstructured.Unstructured, bool)) error {
	for _, o := range objects {
		from, ok := o.GetAnnotations()[copyFromAnnotation]
		kind := o.GetKind()
		if !ok || o.GetAPIVersion() != "v1" || (kind != "ConfigMap" && kind != "Secret") {
			continue
		}
		parts := strings.Split(from, "/")
		if len(parts) != 2 {
			return &CopyFromError{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), From: from, Invalid: true}
		}
		src, found := lookup(kind, parts[0], parts[1])
		if !found {
			return &CopyFromError{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), From: from}
		}
		if kind == "ConfigMap" {
			copyConfigMap(o, src)
		} else {
			copySecret(o, src)
		}
	}
	return nil
}

func copyConfigMap(dst, src *unstructured.Unstructured) {
	dst.Object["data"] = stringMap(kube.DataValues(src))
	if bin, _, _ := unstructured.NestedMap(src.Object, "binaryData"); len(bin) > 0 {
		dst.Object["binaryData"] = bin
	}
}

func copySecret(dst, src *unstructured.Unstructured) {
	if _, ok := dst.Object["type"]; !ok {
		t, _, _ := unstructured.NestedString(src.Object, "type")
		if t == "" {
			t = "Opaque"
		}
		dst.Object["type"] = t
	}
	if IsEncrypted(src) {
		for _, field := range []string{"data", "stringData", "sops"} {
			if v, ok := src.Object[field]; ok {
				dst.Object[field] = runtime.DeepCopyJSONValue(v)
			}
		}
		return
	}
	dst.Object["stringData"] = stringMap(kube.DataValues(src))
}

// stringMap is m as an unstructured map.
func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
