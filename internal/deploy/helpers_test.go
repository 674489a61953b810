package deploy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
	"github.com/slipwayhq/slipway/internal/result"
)

// env is one test's repository and cluster path (deploytest.Env, shared
// with the uninstall tests), with this package's checks.
type env struct{ *deploytest.Env }

// newEnv starts a test's repository for the package's cluster, skipping
// the test when there is none.
func newEnv(t *testing.T, id string) *env {
	t.Helper()
	if local == nil {
		t.Skip(skipReason)
	}
	return &env{deploytest.New(t, kube, id)}
}

// get, mustGet and gone read the package's cluster.
func get(t *testing.T, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	return deploytest.Get(t, kube, apiVersionKind, ns, name)
}

func mustGet(t *testing.T, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	return deploytest.MustGet(t, kube, apiVersionKind, ns, name)
}

func gone(t *testing.T, apiVersionKind, ns, name string) bool {
	t.Helper()
	return deploytest.Gone(t, kube, apiVersionKind, ns, name)
}

// kd returns the result of a Kustomization ("" is the root), failing the
// test when it is missing.
func (e *env) kd(cd *result.ClusterDeploy, ks string) *result.KustomizationDeploy {
	e.T.Helper()
	ref := e.Ref(ks)
	for _, k := range cd.Kustomizations {
		if k.Ref == ref {
			return k
		}
	}
	e.T.Fatalf("no result for Kustomization %s in\n%s", ref, deploytest.DeployText(cd))
	return nil
}

// actions maps "Kind/ns/name" to the action of each change.
func actions(kd *result.KustomizationDeploy) map[string]result.Action {
	out := map[string]result.Action{}
	for _, c := range kd.Changes {
		out[c.ID.String()] = c.Action
	}
	return out
}

// wantActions checks the changes of a Kustomization are exactly want.
func (e *env) wantActions(kd *result.KustomizationDeploy, want map[string]result.Action) {
	e.T.Helper()
	got := actions(kd)
	if len(got) != len(kd.Changes) {
		e.T.Errorf("%s: duplicate changes: %+v", kd.Ref, kd.Changes)
	}
	for id, a := range want {
		if got[id] != a {
			e.T.Errorf("%s: %s is %q, want %q", kd.Ref, id, got[id], a)
		}
	}
	for id, a := range got {
		if _, ok := want[id]; !ok {
			e.T.Errorf("%s: unexpected change %s %q", kd.Ref, id, a)
		}
	}
}

func cmData(t *testing.T, u *unstructured.Unstructured, key string) string {
	t.Helper()
	v, _, _ := unstructured.NestedString(u.Object, "data", key)
	return v
}

// wantInventory checks the inventory of a Kustomization lists exactly ids
// ("Kind/ns/name").
func (e *env) wantInventory(ks string, ids ...string) {
	e.T.Helper()
	cm, got := e.Inventory(ks)
	if cm == nil {
		e.T.Fatalf("no inventory for %s", e.Ref(ks))
	}
	want := append([]string(nil), ids...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		e.T.Errorf("inventory of %s:\n got %v\nwant %v", e.Ref(ks), got, want)
	}
}

// applySetID computes a KEP-3659 ApplySet ID independently of the package:
// base64url(sha256("<name>.<namespace>.<kind>.<group>")), "applyset-" prefix,
// "-v1" suffix; the parent is a ConfigMap (core group, "").
func applySetID(parentName string) string {
	sum := sha256.Sum256([]byte(parentName + "." + deploy.SystemNamespace + ".ConfigMap."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// resourceVersions returns the resourceVersion of each object.
func resourceVersions(t *testing.T, objs [][3]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		u := mustGet(t, o[0], o[1], o[2])
		out[strings.Join(o[:], " ")] = u.GetResourceVersion()
	}
	return out
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
