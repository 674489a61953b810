package build

import (
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipwayhq/slipway/internal/result"
)

// TestSubstituteOrderFindings: a substituteFrom object built in the
// cluster path is in time when its Kustomization declared this one
// (directly or not) or is depended on (directly or not); otherwise, and
// for a Kustomization's own output, a fresh cluster fails first.
func TestSubstituteOrderFindings(t *testing.T) {
	ref := func(n string) result.KustomizationRef {
		return result.KustomizationRef{Namespace: "flux-system", Name: n}
	}
	kb := func(name string, dependsOn ...string) *result.KustomizationBuild {
		ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flux-system"}}
		ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "ConfigMap", Name: "settings"}}}
		b := &result.KustomizationBuild{Ref: ref(name), Spec: ks, Origin: result.Origin{File: name + ".yaml", Line: 1}}
		for _, d := range dependsOn {
			b.DependsOn = append(b.DependsOn, ref(d))
		}
		return b
	}
	cases := []struct {
		name  string
		owner string
		kbs   []*result.KustomizationBuild
		// parent of each Kustomization (child -> parent).
		parent map[string]string
		want   string // "" when no warning
	}{
		{"declared-by-owner", "root", []*result.KustomizationBuild{kb("app")}, map[string]string{"app": "root"}, ""},
		{"declared-by-owner-indirectly", "root", []*result.KustomizationBuild{kb("app")}, map[string]string{"app": "apps", "apps": "root"}, ""},
		{"depends-on-owner-indirectly", "vars", []*result.KustomizationBuild{kb("app", "infra"), kb("infra", "vars")}, map[string]string{"app": "root", "infra": "root", "vars": "root"}, ""},
		{"sibling-without-dependsOn", "vars", []*result.KustomizationBuild{kb("app")}, map[string]string{"app": "root", "vars": "root"}, "does not depend on"},
		{"own-output", "app", []*result.KustomizationBuild{kb("app")}, map[string]string{"app": "root"}, "own output"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &clusterState{path: "clusters/dev", byRef: map[result.KustomizationRef]*result.KustomizationBuild{},
				varOwner: map[string]result.KustomizationRef{"ConfigMap/flux-system/settings": ref(c.owner)},
				parent:   map[result.KustomizationRef]result.KustomizationRef{}}
			for _, b := range c.kbs {
				st.order = append(st.order, b)
				st.byRef[b.Ref] = b
			}
			for child, p := range c.parent {
				st.parent[ref(child)] = ref(p)
			}
			var got []string
			for _, f := range substituteOrderFindings(st) {
				if f.Kustomization.Name == "app" {
					got = append(got, f.Message)
				}
			}
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("unexpected warning: %v", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
				t.Errorf("want one warning containing %q, got %v", c.want, got)
			}
		})
	}
}
