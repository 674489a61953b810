package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/result"
)

// liveCache holds the live members of every ApplySet of a cluster path,
// read with one LIST per kind before deploying.
//
// It makes a no-op redeploy cheap without weakening Flux's drift semantics.
// fluxcd/pkg/ssa decides "unchanged" with a GET and a server-side dry-run
// per object. slipway skips both for an object when (1) the manifest it
// would apply is byte-for-byte the one it applied last time (a hash kept in
// the inventory) and (2) the live object still holds every field of that
// manifest with the same value. (1) catches removed fields, which a
// server-side apply would clear; (2) catches drift. Anything else, or any
// doubt (write-only fields, normalised quantities), takes the dry-run path.
type liveCache struct {
	mu      sync.Mutex
	objects map[string]*unstructured.Unstructured // inventory key -> live
	listed  map[schema.GroupVersionKind]bool
	// namespaces remembers the namespaces known to exist: an object in a
	// namespace that does not exist cannot exist either.
	namespaces map[string]bool
}

func newLiveCache() *liveCache {
	return &liveCache{objects: map[string]*unstructured.Unstructured{}, listed: map[schema.GroupVersionKind]bool{}, namespaces: map[string]bool{}}
}

// namespaceExists reports whether a namespace exists.
func (lc *liveCache) namespaceExists(ctx context.Context, c client.Client, name string) (bool, error) {
	if lc == nil {
		return true, nil
	}
	lc.mu.Lock()
	exists, ok := lc.namespaces[name]
	lc.mu.Unlock()
	if ok {
		return exists, nil
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	err := c.Get(ctx, client.ObjectKey{Name: name}, ns)
	switch {
	case err == nil:
		exists = true
	case apierrors.IsNotFound(err):
		exists = false
	default:
		return true, err
	}
	if exists {
		// Only "exists" is remembered: a namespace missing now may be
		// created by an earlier Kustomization of this same run.
		lc.mu.Lock()
		lc.namespaces[name] = true
		lc.mu.Unlock()
	}
	return exists, nil
}

// prefetch lists, once per kind, the live objects that are members of any
// ApplySet. Kinds that cannot be listed (no CRD yet, no permission) are
// left out: their objects take the dry-run path.
func (lc *liveCache) prefetch(ctx context.Context, c client.Client, gvks []schema.GroupVersionKind) {
	req, err := labels.NewRequirement(LabelApplySetPartOf, selection.Exists, nil)
	if err != nil {
		return
	}
	sel := labels.NewSelector().Add(*req)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, gvk := range gvks {
		g.Go(func() error {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			if err := c.List(gctx, list, client.MatchingLabelsSelector{Selector: sel}); err != nil {
				return nil
			}
			lc.mu.Lock()
			defer lc.mu.Unlock()
			lc.listed[gvk] = true
			for i := range list.Items {
				u := &list.Items[i]
				u.SetGroupVersionKind(gvk)
				lc.objects[result.IDOf(u).InventoryKey()] = u
			}
			return nil
		})
	}
	_ = g.Wait()
}

func (lc *liveCache) get(key string) (*unstructured.Unstructured, bool) {
	if lc == nil {
		return nil, false
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	u, ok := lc.objects[key]
	return u, ok
}

// manifestHash identifies exactly what would be applied.
func manifestHash(u *unstructured.Unstructured) string {
	data, err := json.Marshal(u.Object) // map keys are sorted: stable
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

// unchanged reports whether applying desired would be a no-op, per the
// rules above.
func (lc *liveCache) unchanged(desired *unstructured.Unstructured, hash string, last Entry) bool {
	if lc == nil || hash == "" || last.Hash != hash {
		return false
	}
	live, ok := lc.get(EntryOf(desired).ID)
	if !ok {
		return false
	}
	if _, ok := desired.Object["stringData"]; ok {
		return false // write-only: the API server folds it into data
	}
	return contains(live.Object, desired.Object)
}

// contains reports whether live holds every field of want with an equal
// value. Lists must match element by element.
func contains(live, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			lv, ok := l[k]
			if !ok {
				if wv == nil {
					continue
				}
				if m, isMap := wv.(map[string]any); isMap && len(m) == 0 {
					continue // empty maps are dropped by the server
				}
				return false
			}
			if !contains(lv, wv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !contains(l[i], w[i]) {
				return false
			}
		}
		return true
	case int64, float64, int, int32:
		return numEqual(live, want)
	default:
		return fmt.Sprint(live) == fmt.Sprint(want) && sameKind(live, want)
	}
}

func numEqual(a, b any) bool {
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	return ok1 && ok2 && fa == fb
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func sameKind(a, b any) bool {
	switch a.(type) {
	case string:
		_, ok := b.(string)
		return ok
	case bool:
		_, ok := b.(bool)
		return ok
	case nil:
		return b == nil
	}
	return false
}
