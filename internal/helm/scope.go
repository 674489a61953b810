package helm

import (
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// clusterScopedKinds are the built-in kinds without a namespace (group/kind).
var clusterScopedKinds = map[string]bool{
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
	"storagemigration.k8s.io/StorageVersionMigration":               true,
}

// scopes decides, without a cluster, whether a kind is namespaced — what
// Helm asks the API server's REST mapper when it installs: built-in kinds
// from a table, custom kinds from CRDs in the chart, and otherwise by
// name (a custom kind called Cluster… is cluster-scoped, the convention
// every operator follows; anything else is namespaced).
type scopes map[string]bool // group/kind -> namespaced

func newScopes(c *chart.Chart) scopes {
	s := scopes{}
	for _, f := range c.CRDObjects() {
		objs, err := decodeManifests(string(f.File.Data))
		if err != nil {
			continue
		}
		for _, o := range objs {
			s.learn(o)
		}
	}
	return s
}

func (s scopes) learn(o *unstructured.Unstructured) {
	if o.GetKind() != "CustomResourceDefinition" {
		return
	}
	g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
	k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
	s[g+"/"+k] = scope != "Cluster"
}

func (s scopes) namespaced(o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	key := gvk.Group + "/" + gvk.Kind
	if clusterScopedKinds[key] {
		return false
	}
	if ns, ok := s[key]; ok {
		return ns
	}
	if gvk.Group != "" && !strings.HasSuffix(gvk.Group, ".k8s.io") && strings.HasPrefix(gvk.Kind, "Cluster") {
		return false
	}
	return true
}
