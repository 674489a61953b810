package validate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
)

// NamespaceCheck reports namespaced objects that have no namespace: Flux
// applies them with no default namespace and the API server refuses them.
type NamespaceCheck struct{}

// Name implements Check.
func (NamespaceCheck) Name() string { return "namespace" }

// builtinGroups are groups whose kinds are all known above or namespaced.
var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true, "rbac.authorization.k8s.io": true,
	"networking.k8s.io": true, "storage.k8s.io": true, "scheduling.k8s.io": true, "node.k8s.io": true,
	"coordination.k8s.io": true, "discovery.k8s.io": true, "events.k8s.io": true, "apiextensions.k8s.io": true,
	"admissionregistration.k8s.io": true, "certificates.k8s.io": true, "flowcontrol.apiserver.k8s.io": true,
	"resource.k8s.io": true, "apiregistration.k8s.io": true,
}

// Run implements Check.
func (c NamespaceCheck) Run(cb *result.ClusterBuild) []result.Finding {
	crdScope := map[string]string{} // group/kind -> Namespaced|Cluster
	all := items(cb)
	for _, it := range all {
		o := it.o
		if o.Object.GetKind() != "CustomResourceDefinition" {
			continue
		}
		g, _, _ := unstructured.NestedString(o.Object.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(o.Object.Object, "spec", "names", "kind")
		crdScope[g+"/"+k], _, _ = unstructured.NestedString(o.Object.Object, "spec", "scope")
	}
	var out []result.Finding
	for _, it := range all {
		o := it.o
		if o.Object.GetNamespace() != "" {
			continue
		}
		gvk := o.Object.GroupVersionKind()
		key := gvk.Group + "/" + gvk.Kind
		namespaced := false
		switch {
		case kube.ClusterScoped(key):
		case crdScope[key] != "":
			namespaced = crdScope[key] == "Namespaced"
		case builtinGroups[gvk.Group]:
			namespaced = true
		case isFluxGroup(gvk.Group):
			namespaced = true
		}
		if namespaced {
			out = append(out, it.finding(cb, result.SeverityError, c.Name(),
				fmt.Sprintf("%s is namespaced but has no namespace (set metadata.namespace, the kustomization's namespace, or spec.targetNamespace)", o.ID())))
		}
	}
	return out
}

func isFluxGroup(g string) bool {
	switch g {
	case "kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io",
		"notification.toolkit.fluxcd.io", "image.toolkit.fluxcd.io", "source.extensions.fluxcd.io":
		return true
	}
	return false
}
