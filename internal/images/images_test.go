package images

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOf(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"pod: every container list", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers: [{name: i, image: busybox:1.36}]
  containers: [{name: a, image: nginx:1.27}, {name: b, image: nginx:1.27}]
  ephemeralContainers: [{name: d, image: debug@sha256:abc}]
`, []string{"busybox:1.36", "debug@sha256:abc", "nginx:1.27"}},
		{"deployment", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: a, image: ghcr.io/org/app:2}]}}}
`, []string{"ghcr.io/org/app:2"}},
		{"cronjob: the job template's pod", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: cron:1}], initContainers: [{name: b, image: init:1}]}}}}}
`, []string{"cron:1", "init:1"}},
		{"a custom kind named Deployment is not one", `
apiVersion: example.com/v1
kind: Deployment
metadata: {name: x}
spec: {template: {spec: {containers: [{name: a, image: nope:1}]}}}
`, nil},
		{"not a workload", `
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {image: nope:1}
`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Of(obj(t, c.doc)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Of = %v, want %v", got, c.want)
			}
		})
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                         "nginx",
		"nginx:1.27":                    "nginx",
		"registry:5000/org/app":         "registry:5000/org/app",
		"registry:5000/org/app:v1":      "registry:5000/org/app",
		"ghcr.io/org/app:1@sha256:abcd": "ghcr.io/org/app",
		"ghcr.io/org/app@sha256:abcd":   "ghcr.io/org/app",
	} {
		if got := Repository(in); got != want {
			t.Errorf("Repository(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromBuilds(t *testing.T) {
	dep := func(img string) result.Object {
		return result.Object{Object: obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: a, image: `+img+`}]}}}
`)}
	}
	cb := &result.ClusterBuild{Path: "clusters/prod", Kustomizations: []*result.KustomizationBuild{
		{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "apps"}, Objects: []result.Object{dep("b:1"), dep("a:1")},
			Releases: []*result.ReleaseBuild{
				{Ref: result.KustomizationRef{Namespace: "web", Name: "podinfo"}, Objects: []result.Object{dep("a:1")}},
				{Ref: result.KustomizationRef{Namespace: "web", Name: "broken"}, Err: &helm.ChartNotFoundError{Chart: "broken", Source: "HelmRepository web/charts"}},
			}},
		{Ref: result.KustomizationRef{Namespace: "flux-system", Name: "config"}},
	}}
	l := FromBuilds([]*result.ClusterBuild{cb})
	if want := []string{"a:1", "b:1"}; !reflect.DeepEqual(l.Images, want) {
		t.Errorf("images = %v, want %v", l.Images, want)
	}
	units := l.Clusters[0].Units
	if len(units) != 3 {
		t.Fatalf("units = %+v, want apps, podinfo, broken (config has no image)", units)
	}
	if units[1].Kind != KindHelmRelease || units[1].Kustomization != "flux-system/apps" || !reflect.DeepEqual(units[1].Images, []string{"a:1"}) {
		t.Errorf("release unit = %+v", units[1])
	}
	if units[2].Error == "" || units[2].Reason != result.ReasonNotFound || len(units[2].Images) != 0 {
		t.Errorf("failed release = %+v, want its error and no image", units[2])
	}
}

func TestChanges(t *testing.T) {
	ks := UnitKey{Kind: KindKustomization, Namespace: "flux-system", Name: "apps"}
	hr := UnitKey{Kind: KindHelmRelease, Namespace: "web", Name: "podinfo"}
	gone := UnitKey{Kind: KindHelmRelease, Namespace: "web", Name: "old"}
	base := map[UnitKey][]string{
		ks:   {"nginx:1.26", "redis:7", "same:1"},
		hr:   {"ghcr.io/stefanprodan/podinfo:6.5.0"},
		gone: {"old:1"},
	}
	head := map[UnitKey][]string{
		ks: {"nginx:1.27", "same:1", "envoy:1.30"},
		hr: {"ghcr.io/stefanprodan/podinfo@sha256:0123"},
	}
	got := Changes(base, head)
	want := []Change{
		{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Action: Added, Repository: "envoy", To: "envoy:1.30", Image: "envoy:1.30"},
		{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Action: Updated, Repository: "nginx", From: "nginx:1.26", To: "nginx:1.27", Image: "nginx:1.27"},
		{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Action: Removed, Repository: "redis", From: "redis:7", Image: "redis:7"},
		{Kind: "HelmRelease", Namespace: "web", Name: "old", Action: Removed, Repository: "old", From: "old:1", Image: "old:1"},
		{Kind: "HelmRelease", Namespace: "web", Name: "podinfo", Action: Updated, Repository: "ghcr.io/stefanprodan/podinfo", From: "ghcr.io/stefanprodan/podinfo:6.5.0", To: "ghcr.io/stefanprodan/podinfo@sha256:0123", Image: "ghcr.io/stefanprodan/podinfo@sha256:0123"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes =\n%+v\nwant\n%+v", got, want)
	}
	if c := Changes(map[UnitKey][]string{ks: {"a:1"}}, map[UnitKey][]string{ks: {"a:1"}}); len(c) != 0 {
		t.Errorf("same images: %+v, want no change", c)
	}
}
