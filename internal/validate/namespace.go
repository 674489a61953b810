package validate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
)

// NamespaceCheck reports namespaced objects that have no namespace: Flux
// applies them with no default namespace and the API server refuses them.
type NamespaceCheck struct{}

// Name implements Check.
func (NamespaceCheck) Name() string { return "namespace" }

// clusterScoped lists the built-in kinds that have no namespace. The
// embedded schemas do not record scope, so it is written out here.
var clusterScoped = map[string]bool{
	"/Namespace": true, "/Node": true, "/PersistentVolume": true, "/ComponentStatus": true,
	"rbac.authorization.k8s.io/ClusterRole": true, "rbac.authorization.k8s.io/ClusterRoleBinding": true,
	"apiextensions.k8s.io/CustomResourceDefinition": true, "apiregistration.k8s.io/APIService": true,
	"storage.k8s.io/StorageClass": true, "storage.k8s.io/CSIDriver": true, "storage.k8s.io/CSINode": true,
	"storage.k8s.io/VolumeAttachment": true, "storage.k8s.io/VolumeAttributesClass": true,
	"scheduling.k8s.io/PriorityClass": true, "node.k8s.io/RuntimeClass": true,
	"networking.k8s.io/IngressClass": true, "networking.k8s.io/IPAddress": true, "networking.k8s.io/ServiceCIDR": true,
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration":   true,
	"admissionregistration.k8s.io/MutatingWebhookConfiguration":     true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy":        true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicy":          true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicyBinding":   true,
	"flowcontrol.apiserver.k8s.io/FlowSchema":                       true,
	"flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration":       true,
	"certificates.k8s.io/CertificateSigningRequest":                 true,
	"certificates.k8s.io/ClusterTrustBundle":                        true,
	"resource.k8s.io/DeviceClass":                                   true,
	"resource.k8s.io/ResourceSlice":                                 true,
	"internal.apiserver.k8s.io/StorageVersion":                      true,
	"storagemigration.k8s.io/StorageVersionMigration":               true,
	"authentication.k8s.io/SelfSubjectReview":                       true,
	"authorization.k8s.io/SelfSubjectAccessReview":                  true,
	"authorization.k8s.io/SelfSubjectRulesReview":                   true,
	"authorization.k8s.io/SubjectAccessReview":                      true,
	"authentication.k8s.io/TokenReview":                             true,
}

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
		case clusterScoped[key]:
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
