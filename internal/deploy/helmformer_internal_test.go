package deploy

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
)

func hrEntry(release, ns, former string) Entry {
	return Entry{ID: "apps_app_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2", Release: release, StorageNamespace: ns, FormerReleases: former}
}

// A changed release target keeps the old release as a former one; an
// unchanged one records nothing; a rename back drops the name from the
// former list (it is the current release again).
func TestCarryFormer(t *testing.T) {
	for _, tc := range []struct {
		name       string
		prev, next Entry
		want       []ReleaseAt
	}{
		{"unchanged", hrEntry("app", "apps", ""), hrEntry("app", "apps", ""), nil},
		{"renamed", hrEntry("old", "apps", ""), hrEntry("new", "apps", ""), []ReleaseAt{{"old", "apps"}}},
		{"storage moved", hrEntry("app", "apps", ""), hrEntry("app", "helm", ""), []ReleaseAt{{"app", "apps"}}},
		{"renamed twice, first not yet gone", hrEntry("mid", "apps", "apps/old"), hrEntry("new", "apps", ""),
			[]ReleaseAt{{"old", "apps"}, {"mid", "apps"}}},
		{"renamed back", hrEntry("new", "apps", "apps/old"), hrEntry("old", "apps", ""), []ReleaseAt{{"new", "apps"}}},
		{"previous never rendered: defaults", hrEntry("", "", ""), hrEntry("custom", "apps", ""), []ReleaseAt{{"app", "apps"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := carryFormer(tc.next, tc.prev)
			if !reflect.DeepEqual(got.Former(), tc.want) {
				t.Errorf("former %v, want %v", got.Former(), tc.want)
			}
			if got.Release != tc.next.Release || got.StorageNamespace != tc.next.StorageNamespace {
				t.Errorf("current release changed: %+v", got)
			}
		})
	}
}

// Former releases survive the inventory's JSON, and the entry stays
// comparable (sameEntries compares entries with ==).
func TestFormerRoundTrip(t *testing.T) {
	e := hrEntry("new", "apps", "").withFormer([]ReleaseAt{{"old", "apps"}, {"older", "legacy"}})
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back Entry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != e || string(b) != `{"id":"apps_app_helm.toolkit.fluxcd.io_HelmRelease","v":"v2","r":"new","sn":"apps","fr":"apps/old,legacy/older"}` {
		t.Errorf("round trip: %s → %+v", b, back)
	}
	all := back.AllReleases()
	if len(all) != 3 || all[2] != (ReleaseAt{"new", "apps"}) {
		t.Errorf("all releases %v", all)
	}
}

// Uninstalled former releases are forgotten; one that failed stays.
func TestForgetRetired(t *testing.T) {
	e := hrEntry("new", "apps", "apps/old,apps/mid")
	entries := map[string]Entry{e.ID: e}
	if forgetRetired(entries, map[string][]ReleaseAt{e.ID: nil}) {
		t.Error("nothing retired, yet changed")
	}
	if !forgetRetired(entries, map[string][]ReleaseAt{e.ID: {{"old", "apps"}}}) {
		t.Fatal("retired, yet unchanged")
	}
	if got := entries[e.ID].FormerReleases; got != "apps/mid" {
		t.Errorf("former %q, want apps/mid", got)
	}
}

// helmEntries carries a renamed HelmRelease's previous release into its
// new entry, and keeps former releases of one that did not render.
func TestHelmEntriesRename(t *testing.T) {
	hr := &unstructured.Unstructured{}
	hr.SetAPIVersion("helm.toolkit.fluxcd.io/v2")
	hr.SetKind("HelmRelease")
	hr.SetNamespace("apps")
	hr.SetName("app")
	ref := result.KustomizationRef{Namespace: "apps", Name: "app"}
	kb := &result.KustomizationBuild{
		Objects:  []result.Object{{Object: hr}},
		Releases: []*result.ReleaseBuild{{Ref: ref, ReleaseName: "new", StorageNamespace: "apps"}},
	}
	old := map[string]Entry{hrEntry("old", "apps", "").ID: hrEntry("old", "apps", "")}
	got := helmEntries(kb, old)[hrEntry("", "", "").ID]
	if got.Release != "new" || got.FormerReleases != "apps/old" {
		t.Errorf("renamed: %+v", got)
	}
	// Not rendered this time (say, its values Secret is encrypted): what
	// the inventory knew stays, former releases included.
	kb.Releases = nil
	old = map[string]Entry{got.ID: got}
	if kept := helmEntries(kb, old)[got.ID]; kept != got {
		t.Errorf("unrendered: %+v, want %+v", kept, got)
	}
}
