package helm

import (
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/kube"
)

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
	if kube.ClusterScoped(key) {
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
