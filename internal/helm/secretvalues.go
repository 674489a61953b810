package helm

import (
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/kube"
)

// SecretValues returns what a HelmRelease's values take from Secrets: each
// referenced key's content and every scalar in it, so that renderers mask
// them wherever the chart puts them. Secrets are found through lookup.
func SecretValues(hr *unstructured.Unstructured, lookup Lookup) []string {
	refs, _, _ := unstructured.NestedSlice(hr.Object, "spec", "valuesFrom")
	var out []string
	for _, r := range refs {
		m, _ := r.(map[string]any)
		if m["kind"] != kindSecret {
			continue
		}
		name, _ := m["name"].(string)
		s, ok := lookup(kindSecret, hr.GetNamespace(), name)
		if !ok {
			continue
		}
		key, _ := m["valuesKey"].(string)
		if key == "" {
			key = "values.yaml"
		}
		v, ok := kube.DataValues(s)[key]
		if !ok {
			continue
		}
		out = append(out, v)
		if target, _ := m["targetPath"].(string); target != "" {
			continue // the whole content is the value
		}
		var doc any
		if yaml.Unmarshal([]byte(v), &doc) == nil {
			out = append(out, scalars(doc)...)
		}
	}
	return out
}

func scalars(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, scalars(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, scalars(e)...)
		}
	case string:
		out = append(out, x)
	case float64:
		out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
	case int64:
		out = append(out, strconv.FormatInt(x, 10))
	}
	return out
}
