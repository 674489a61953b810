package flux

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Flux Operator's API: a FluxInstance installs Flux and, with spec.sync,
// creates the root source and Kustomization that flux bootstrap would
// otherwise commit as gotk-sync.yaml.
const (
	OperatorGroup    = "fluxcd.controlplane.io"
	FluxInstanceKind = "FluxInstance"
	// FluxInstanceChart is the Helm chart that renders a FluxInstance
	// from values.instance.
	FluxInstanceChart = "flux-instance"
)

// InstanceSync is what a FluxInstance's spec.sync makes the operator
// create: a source (GitRepository, OCIRepository or Bucket) and a
// Kustomization, both named Name in Namespace.
type InstanceSync struct {
	Kind, Namespace, Name string
	URL, Ref, Path        string
	// Via says where it was declared: "FluxInstance ns/name" or
	// "HelmRelease ns/name (chart flux-instance)".
	Via string
}

// FluxInstanceSync reads spec.sync from a FluxInstance, or
// values.instance.sync from a HelmRelease of the flux-instance chart.
// ok is false for any other object and for one without sync.
func FluxInstanceSync(u *unstructured.Unstructured) (s InstanceSync, ok bool) {
	gvk := u.GroupVersionKind()
	switch {
	case gvk.Group == OperatorGroup && gvk.Kind == FluxInstanceKind:
		sync, found, _ := unstructured.NestedMap(u.Object, "spec", "sync")
		if !found {
			return s, false
		}
		s = syncFrom(sync, orDefault(u.GetNamespace()))
		s.Via = FluxInstanceKind + " " + orDefault(u.GetNamespace()) + "/" + u.GetName()
		return s, s.Kind != ""
	case gvk.Group == HelmGroup && gvk.Kind == HelmReleaseKind && isFluxInstanceChart(u):
		sync, found, _ := unstructured.NestedMap(u.Object, "spec", "values", "instance", "sync")
		if !found {
			return s, false
		}
		// The chart puts the FluxInstance in the release namespace.
		ns, _, _ := unstructured.NestedString(u.Object, "spec", "targetNamespace")
		if ns == "" {
			ns = orDefault(u.GetNamespace())
		}
		s = syncFrom(sync, ns)
		s.Via = HelmReleaseKind + " " + orDefault(u.GetNamespace()) + "/" + u.GetName() + " (chart " + FluxInstanceChart + ")"
		return s, s.Kind != ""
	}
	return s, false
}

// syncFrom applies the operator's default: the objects are named after
// the FluxInstance's namespace unless sync.name says otherwise.
func syncFrom(m map[string]any, namespace string) InstanceSync {
	str := func(k string) string { v, _ := m[k].(string); return v }
	s := InstanceSync{Kind: str("kind"), Namespace: namespace, Name: str("name"), URL: str("url"), Ref: str("ref"), Path: str("path")}
	if s.Name == "" {
		s.Name = namespace
	}
	return s
}

func isFluxInstanceChart(u *unstructured.Unstructured) bool {
	if c, _, _ := unstructured.NestedString(u.Object, "spec", "chart", "spec", "chart"); c != "" {
		return c == FluxInstanceChart || strings.HasSuffix(c, "/"+FluxInstanceChart)
	}
	name, _, _ := unstructured.NestedString(u.Object, "spec", "chartRef", "name")
	return strings.Contains(name, FluxInstanceChart)
}

func orDefault(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}
