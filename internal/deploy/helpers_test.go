package deploy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// fluxNS is where the Flux objects of the test repositories live.
const fluxNS = "flux-system"

// env is one test's repository and cluster path. The id prefixes everything
// the test creates: the cluster path clusters/<id>, the root Kustomization
// flux-system/<id>, child Kustomizations flux-system/<id>-<name> and, by
// convention, namespaces <id> and <id>-<suffix>.
type env struct {
	t    *testing.T
	id   string
	dir  string
	path string
	ev   *recorder
}

func newEnv(t *testing.T, id string) *env {
	t.Helper()
	if local == nil {
		t.Skip(skipReason)
	}
	e := &env{t: t, id: id, dir: t.TempDir(), path: "clusters/" + id, ev: &recorder{t: t}}
	e.write(map[string]string{
		e.path + "/flux-system/gotk-sync.yaml": fmt.Sprintf(`# as flux bootstrap writes it
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://example.invalid/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./%s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`, id, e.path),
		e.path + "/flux-system/kustomization.yaml": kustomize("gotk-sync.yaml"),
	})
	return e
}

// write writes repository files; an empty content removes the file.
func (e *env) write(files map[string]string) {
	e.t.Helper()
	for rel, content := range files {
		p := filepath.Join(e.dir, filepath.FromSlash(rel))
		if content == "" {
			if err := os.Remove(p); err != nil {
				e.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
}

// name is the full name of a child Kustomization.
func (e *env) name(ks string) string { return e.id + "-" + ks }

// ref is the reference of a child Kustomization; "" is the root.
func (e *env) ref(ks string) result.KustomizationRef {
	if ks == "" {
		return result.KustomizationRef{Namespace: fluxNS, Name: e.id}
	}
	return result.KustomizationRef{Namespace: fluxNS, Name: e.name(ks)}
}

// ks returns a Flux Kustomization named <id>-<name> for path, with prune
// on unless the extra spec lines (YAML at spec level) set it.
func (e *env) ks(name, path string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: ./%s
  sourceRef:
    kind: GitRepository
    name: flux-system
`, e.name(name), path)
	prune := true
	for _, x := range extra {
		if strings.HasPrefix(x, "prune:") {
			prune = false
		}
		b.WriteString("  " + x + "\n")
	}
	if prune {
		b.WriteString("  prune: true\n")
	}
	return b.String()
}

// kustomize returns a kustomization.yaml listing resources.
func kustomize(resources ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	if len(resources) == 0 {
		return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
	}
	for _, r := range resources {
		b.WriteString("  - " + r + "\n")
	}
	return b.String()
}

func namespaceYAML(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
}

// configMapYAML returns a ConfigMap; annotations and data are "k: v" pairs.
func configMapYAML(ns, name string, data map[string]string, annotations ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n", name, ns)
	if len(annotations) > 0 {
		b.WriteString("  annotations:\n")
		for _, a := range annotations {
			b.WriteString("    " + a + "\n")
		}
	}
	if len(data) > 0 {
		b.WriteString("data:\n")
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %q\n", k, data[k])
		}
	}
	return b.String()
}

// deploymentYAML returns a one-replica Deployment; extraPodSpec lines are
// added to the pod spec (indented by the caller for 6 spaces).
func deploymentYAML(ns, name, app string, extraPodSpec ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[3]s
  template:
    metadata:
      labels:
        app: %[3]s
    spec:
      containers:
        - name: web
          image: registry.invalid/web:1
`, ns, name, app)
	for _, l := range extraPodSpec {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

// build builds the test's cluster path and fails the test on error findings
// unless allowErrors.
func (e *env) build(allowErrors ...bool) *result.ClusterBuild {
	e.t.Helper()
	repo, err := source.OpenWorktree(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := build.New(build.DefaultOptions(repo))
	if err != nil {
		e.t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cb := b.BuildClusterPath(ctx, e.path)
	for _, f := range cb.Findings {
		line := report.FindingLine(f)
		if f.Severity == result.SeverityError && (len(allowErrors) == 0 || !allowErrors[0]) {
			e.t.Fatalf("build of %s: %s", e.path, line)
		}
		e.t.Logf("build finding: %s", line)
	}
	return cb
}

// opts are test defaults: short timeouts, a holder naming the test, events
// recorded.
func (e *env) opts() deploy.Options {
	o := deploy.DefaultOptions()
	o.Holder = "test/" + e.id
	o.Timeout = 45 * time.Second
	o.LockWait = 30 * time.Second
	o.LockTTL = 6 * time.Second
	o.ProgressInterval = time.Second
	o.Tooling = "slipway/test"
	o.Observer = e.ev.observe
	return o
}

// deploy builds the repository as it is now and deploys it.
func (e *env) deploy(o deploy.Options) *result.ClusterDeploy {
	e.t.Helper()
	return e.deployBuild(context.Background(), o, e.build())
}

func (e *env) deployBuild(ctx context.Context, o deploy.Options, cb *result.ClusterBuild) *result.ClusterDeploy {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cd := deploy.New(kube, o).Deploy(ctx, cb)
	e.t.Logf("deploy of %s:\n%s", e.path, deployText(cd))
	return cd
}

func deployText(cd *result.ClusterDeploy) string {
	var buf bytes.Buffer
	if err := report.DeployText(&buf, []*result.ClusterDeploy{cd}, report.NewMasker(nil)); err != nil {
		return err.Error()
	}
	return buf.String()
}

// kd returns the result of a Kustomization ("" is the root), failing the
// test when it is missing.
func (e *env) kd(cd *result.ClusterDeploy, ks string) *result.KustomizationDeploy {
	e.t.Helper()
	ref := e.ref(ks)
	for _, k := range cd.Kustomizations {
		if k.Ref == ref {
			return k
		}
	}
	e.t.Fatalf("no result for Kustomization %s in\n%s", ref, deployText(cd))
	return nil
}

// mustSucceed fails the test unless every Kustomization was applied.
func (e *env) mustSucceed(cd *result.ClusterDeploy) {
	e.t.Helper()
	if cd.Error != "" {
		e.t.Fatalf("deploy failed: %s", cd.Error)
	}
	for _, k := range cd.Kustomizations {
		if k.Status != result.StatusApplied {
			e.t.Fatalf("Kustomization %s: %s, want applied: %s", k.Ref, k.Status, k.Error)
		}
	}
	if cd.Failed() {
		e.t.Fatal("ClusterDeploy.Failed() is true although every Kustomization was applied")
	}
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
	e.t.Helper()
	got := actions(kd)
	if len(got) != len(kd.Changes) {
		e.t.Errorf("%s: duplicate changes: %+v", kd.Ref, kd.Changes)
	}
	for id, a := range want {
		if got[id] != a {
			e.t.Errorf("%s: %s is %q, want %q", kd.Ref, id, got[id], a)
		}
	}
	for id, a := range got {
		if _, ok := want[id]; !ok {
			e.t.Errorf("%s: unexpected change %s %q", kd.Ref, id, a)
		}
	}
}

// gvk parses "apps/v1 Deployment".
func gvk(apiVersionKind string) schema.GroupVersionKind {
	av, kind, _ := strings.Cut(apiVersionKind, " ")
	gv, err := schema.ParseGroupVersion(av)
	if err != nil {
		panic(err)
	}
	return gv.WithKind(kind)
}

// get reads a live object; nil when it does not exist.
func get(t *testing.T, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk(apiVersionKind))
	err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading %s %s/%s: %v", apiVersionKind, ns, name, err)
	}
	return u
}

func mustGet(t *testing.T, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := get(t, apiVersionKind, ns, name)
	if u == nil {
		t.Fatalf("%s %s/%s does not exist", apiVersionKind, ns, name)
	}
	return u
}

// gone reports whether an object is absent or being deleted.
func gone(t *testing.T, apiVersionKind, ns, name string) bool {
	t.Helper()
	u := get(t, apiVersionKind, ns, name)
	return u == nil || u.GetDeletionTimestamp() != nil
}

func cmData(t *testing.T, u *unstructured.Unstructured, key string) string {
	t.Helper()
	v, _, _ := unstructured.NestedString(u.Object, "data", key)
	return v
}

// inventory reads the ApplySet parent of a Kustomization; nil when absent.
func (e *env) inventory(ks string) (*corev1.ConfigMap, []string) {
	e.t.Helper()
	cm := &corev1.ConfigMap{}
	err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: deploy.ParentName(e.ref(ks))}, cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var entries []deploy.Entry
	if err := json.Unmarshal([]byte(cm.Data["inventory"]), &entries); err != nil {
		e.t.Fatalf("inventory of %s: %v", ks, err)
	}
	ids := make([]string, len(entries))
	for i, en := range entries {
		ids[i] = en.ObjectID().String()
	}
	sort.Strings(ids)
	return cm, ids
}

// wantInventory checks the inventory of a Kustomization lists exactly ids
// ("Kind/ns/name").
func (e *env) wantInventory(ks string, ids ...string) {
	e.t.Helper()
	cm, got := e.inventory(ks)
	if cm == nil {
		e.t.Fatalf("no inventory for %s", e.ref(ks))
	}
	want := append([]string(nil), ids...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		e.t.Errorf("inventory of %s:\n got %v\nwant %v", e.ref(ks), got, want)
	}
}

// applySetID computes a KEP-3659 ApplySet ID independently of the package:
// base64url(sha256("<name>.<namespace>.<kind>.<group>")), "applyset-" prefix,
// "-v1" suffix; the parent is a ConfigMap (core group, "").
func applySetID(parentName string) string {
	sum := sha256.Sum256([]byte(parentName + "." + deploy.SystemNamespace + ".ConfigMap."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// recorder keeps the Observer's events in order.
type recorder struct {
	t      *testing.T
	mu     sync.Mutex
	events []recorded
}

type recorded struct {
	at time.Time
	deploy.Event
}

func (r *recorder) observe(ev deploy.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recorded{at: time.Now(), Event: ev})
	ks := "-"
	if ev.Kustomization != nil {
		ks = ev.Kustomization.String()
	}
	r.t.Logf("event %s %s: %s", ev.ClusterPath, ks, ev.Message)
}

// all returns the events so far.
func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.events...)
}

// matching returns the events whose message contains s.
func (r *recorder) matching(s string) []recorded {
	var out []recorded
	for _, ev := range r.all() {
		if strings.Contains(ev.Message, s) {
			out = append(out, ev)
		}
	}
	return out
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
