package deploy

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
)

// A reconcile reverts drift, after which the cluster no longer shows what
// was changed. With Options.DriftFields, Deploy notes, from the live
// objects it lists anyway before applying (one LIST per kind, for the no-op
// fast path), which fields of the manifests they no longer hold: no extra
// request, no dry-run.

// FieldDrift and ObjectDrift are the result model's: what a reconcile
// reports, rendered by internal/report.
type (
	FieldDrift  = result.FieldDrift
	ObjectDrift = result.ObjectDrift
)

// maxFieldValue bounds a value shown in a drift report.
const maxFieldValue = 60

// driftNotes are the drift Deploy noted, by cluster path.
type driftNotes struct {
	mu     sync.Mutex
	byPath map[string]map[string]*ObjectDrift
}

// Drifted returns what the last Deploy of clusterPath found drifted before
// applying, by inventory key: objects whose live state lacked a field of
// the manifest or held another value, and objects not in the cluster.
// Kinds that could not be listed and Flux objects slipway interprets are
// left out: the deploy's own result still says whether they changed. Nil
// unless Options.DriftFields.
func (d *Deployer) Drifted(clusterPath string) map[string]*ObjectDrift {
	d.drift.mu.Lock()
	defer d.drift.mu.Unlock()
	return d.drift.byPath[clusterPath]
}

func (d *Deployer) noteDrift(cb *result.ClusterBuild, live *liveCache) {
	if !d.opts.DriftFields {
		return
	}
	out := map[string]*ObjectDrift{}
	for _, kb := range cb.Kustomizations {
		if kb.Err != nil || kb.Suspended {
			continue
		}
		for _, o := range kb.Objects {
			u := o.Object
			if interpreted(u) || o.Encrypted || !live.listed[u.GroupVersionKind()] {
				continue
			}
			key := EntryOf(u).ID
			l, ok := live.get(key)
			if !ok {
				out[key] = &ObjectDrift{ID: result.IDOf(u), Gone: true}
				continue
			}
			if fields := objectFieldDrift(l, u); len(fields) > 0 {
				out[key] = &ObjectDrift{ID: result.IDOf(u), Fields: fields}
			}
		}
	}
	d.drift.mu.Lock()
	defer d.drift.mu.Unlock()
	if d.drift.byPath == nil {
		d.drift.byPath = map[string]map[string]*ObjectDrift{}
	}
	d.drift.byPath[cb.Path] = out
}

// objectFieldDrift compares a manifest with its live object. Secrets are
// compared without showing values; stringData (write-only: the server
// folds it into data) is not compared.
func objectFieldDrift(live, want *unstructured.Unstructured) []FieldDrift {
	secret := want.GetKind() == "Secret" && want.GroupVersionKind().Group == ""
	var out []FieldDrift
	keys := sortedFields(want.Object)
	for _, k := range keys {
		switch k {
		case "apiVersion", "kind", "status", "stringData":
			continue
		}
		lv, ok := live.Object[k]
		fieldDrift(lv, want.Object[k], k, ok, &out)
	}
	if secret {
		for i := range out {
			out[i].Want, out[i].Live = "", ""
		}
	}
	return out
}

// fieldDrift walks want, recording where live differs, with the same
// rules as the fast path's contains: absent nil and empty maps are equal
// to missing ones, lists compare element by element.
func fieldDrift(live, want any, path string, present bool, out *[]FieldDrift) {
	if !present {
		if want == nil {
			return
		}
		if m, ok := want.(map[string]any); ok && len(m) == 0 {
			return
		}
		*out = append(*out, FieldDrift{Path: path, Missing: true, Want: shorten(want)})
		return
	}
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			*out = append(*out, FieldDrift{Path: path, Want: shorten(want), Live: shorten(live)})
			return
		}
		for _, k := range sortedFields(w) {
			lv, ok := l[k]
			fieldDrift(lv, w[k], path+"."+k, ok, out)
		}
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			*out = append(*out, FieldDrift{Path: path, Want: shorten(want), Live: shorten(live)})
			return
		}
		for i := range w {
			fieldDrift(l[i], w[i], fmt.Sprintf("%s[%d]", path, i), true, out)
		}
	default:
		if !contains(live, want) {
			*out = append(*out, FieldDrift{Path: path, Want: shorten(want), Live: shorten(live)})
		}
	}
}

func sortedFields(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func shorten(v any) string {
	s := strings.Join(strings.Fields(fmt.Sprint(v)), " ")
	if r := []rune(s); len(r) > maxFieldValue {
		return string(r[:maxFieldValue-1]) + "…"
	}
	return s
}
