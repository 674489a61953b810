package images

import (
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// podSpecPath is where each workload kind keeps its Pod spec. Only the
// core workload kinds are read: a custom resource's image fields have no
// common shape, and guessing would list things that are not images.
var podSpecPath = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// containerFields are the Pod spec lists that hold images.
var containerFields = []string{"initContainers", "containers", "ephemeralContainers"}

// workloadGroups are the API groups of the kinds in podSpecPath: a CRD
// named Deployment in another group is not a Deployment.
var workloadGroups = map[string]bool{"": true, "apps": true, "batch": true}

// Of returns the images one object runs, deduplicated and sorted; nil for
// objects that are not workloads.
func Of(u *unstructured.Unstructured) []string {
	if u == nil {
		return nil
	}
	gvk := u.GroupVersionKind()
	path, ok := podSpecPath[gvk.Kind]
	if !ok || !workloadGroups[gvk.Group] {
		return nil
	}
	// NoCopy: only read, and a copy of every Pod spec would cost more
	// than the listing itself.
	raw, found, err := unstructured.NestedFieldNoCopy(u.Object, path...)
	spec, ok := raw.(map[string]any)
	if err != nil || !found || !ok {
		return nil
	}
	set := map[string]bool{}
	for _, f := range containerFields {
		list, _ := spec[f].([]any)
		for _, c := range list {
			m, _ := c.(map[string]any)
			if img, _ := m["image"].(string); img != "" {
				set[img] = true
			}
		}
	}
	return sorted(set)
}

func sorted(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
