// Package deploytest is the deployed-fleet set-up shared by the cluster
// tests of the deploy and uninstall engines: one test's Flux repository
// with its own cluster path, built and deployed to a real local cluster,
// and readers of what landed there. It is test infrastructure: import it
// only from _test.go files.
package deploytest

import (
	"bytes"
	"context"
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
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// FluxNS is where the Flux objects of the test repositories live.
const FluxNS = "flux-system"

// Env is one test's repository and cluster path. The ID prefixes
// everything the test creates: the cluster path clusters/<id>, the root
// Kustomization flux-system/<id>, child Kustomizations
// flux-system/<id>-<name> and, by convention, namespaces <id> and
// <id>-<suffix>. Tests sharing one cluster stay apart by their IDs.
type Env struct {
	T    *testing.T
	ID   string
	Dir  string
	Path string
	// Events records what the deploys and uninstalls observed.
	Events *Recorder
	// Kube is the cluster deployed to.
	Kube *cluster.Cluster
}

// New writes the root of a repository for cluster path clusters/<id>, as
// flux bootstrap lays it out, to be deployed to kube.
func New(t *testing.T, kube *cluster.Cluster, id string) *Env {
	t.Helper()
	e := &Env{T: t, ID: id, Dir: t.TempDir(), Path: "clusters/" + id, Events: NewRecorder(t), Kube: kube}
	e.Write(map[string]string{
		e.Path + "/flux-system/gotk-sync.yaml": fmt.Sprintf(`# as flux bootstrap writes it
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
`, id, e.Path),
		e.Path + "/flux-system/kustomization.yaml": Kustomize("gotk-sync.yaml"),
	})
	return e
}

// Write writes repository files; an empty content removes the file.
func (e *Env) Write(files map[string]string) {
	e.T.Helper()
	for rel, content := range files {
		p := filepath.Join(e.Dir, filepath.FromSlash(rel))
		if content == "" {
			if err := os.Remove(p); err != nil {
				e.T.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.T.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			e.T.Fatal(err)
		}
	}
}

// Name is the full name of a child Kustomization.
func (e *Env) Name(ks string) string { return e.ID + "-" + ks }

// Ref is the reference of a child Kustomization; "" is the root.
func (e *Env) Ref(ks string) result.KustomizationRef {
	if ks == "" {
		return result.KustomizationRef{Namespace: FluxNS, Name: e.ID}
	}
	return result.KustomizationRef{Namespace: FluxNS, Name: e.Name(ks)}
}

// Kustomization returns a Flux Kustomization named <id>-<name> for path,
// with prune on unless the extra spec lines (YAML at spec level) set it.
func (e *Env) Kustomization(name, path string, extra ...string) string {
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
`, e.Name(name), path)
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

// WebApp writes Kustomization <id>-app deploying namespace <id> with a
// ConfigMap, a Deployment, a Service and a ClusterRole.
func (e *Env) WebApp(settings string) {
	ns := e.ID
	e.Write(map[string]string{
		e.Path + "/app.yaml":                   e.Kustomization("app", "apps/"+e.ID),
		"apps/" + e.ID + "/kustomization.yaml": Kustomize("namespace.yaml", "settings.yaml", "deployment.yaml", "service.yaml", "clusterrole.yaml"),
		"apps/" + e.ID + "/namespace.yaml":     NamespaceYAML(ns),
		"apps/" + e.ID + "/settings.yaml":      ConfigMapYAML(ns, "settings", map[string]string{"color": settings}),
		"apps/" + e.ID + "/deployment.yaml":    DeploymentYAML(ns, "web", "web"),
		"apps/" + e.ID + "/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ` + ns + `
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: 8080
`,
		"apps/" + e.ID + "/clusterrole.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ` + e.ID + `-reader
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get]
`,
	})
}

// WebAppObjects are the objects of WebApp as [apiVersion kind, ns, name].
func (e *Env) WebAppObjects() [][3]string {
	return [][3]string{
		{"v1 Namespace", "", e.ID},
		{"v1 ConfigMap", e.ID, "settings"},
		{"apps/v1 Deployment", e.ID, "web"},
		{"v1 Service", e.ID, "web"},
		{"rbac.authorization.k8s.io/v1 ClusterRole", "", e.ID + "-reader"},
	}
}

// Kustomize returns a kustomization.yaml listing resources.
func Kustomize(resources ...string) string {
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

// NamespaceYAML returns a Namespace.
func NamespaceYAML(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
}

// ConfigMapYAML returns a ConfigMap; annotations and data are "k: v" pairs.
func ConfigMapYAML(ns, name string, data map[string]string, annotations ...string) string {
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

// DeploymentYAML returns a one-replica Deployment; extraPodSpec lines are
// added to the pod spec (indented by the caller for 6 spaces).
func DeploymentYAML(ns, name, app string, extraPodSpec ...string) string {
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

// HelloChart is a chart committed in the test repository: one ConfigMap
// named after the release, holding the message and the password values.
var HelloChart = map[string]string{
	"charts/hello/Chart.yaml":  "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
	"charts/hello/values.yaml": "message: default\npassword: none\nname: \"\"\n",
	"charts/hello/templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.name | default .Release.Name }}
data:
  message: {{ .Values.message | quote }}
  password: {{ .Values.password | quote }}
`,
}

// HelmReleaseYAML is a HelmRelease of charts/hello in namespace ns; extra
// lines are added at spec level.
func HelmReleaseYAML(ns, name string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/hello
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
`, name, ns)
	for _, x := range extra {
		b.WriteString("  " + x + "\n")
	}
	return b.String()
}

// Build builds the test's cluster path and fails the test on error
// findings unless allowErrors.
func (e *Env) Build(allowErrors ...bool) *result.ClusterBuild {
	e.T.Helper()
	repo, err := source.OpenWorktree(e.Dir)
	if err != nil {
		e.T.Fatal(err)
	}
	b, err := build.New(build.DefaultOptions(repo))
	if err != nil {
		e.T.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cb := b.BuildClusterPath(ctx, e.Path)
	for _, f := range cb.Findings {
		line := report.FindingLine(f)
		if f.Severity == result.SeverityError && (len(allowErrors) == 0 || !allowErrors[0]) {
			e.T.Fatalf("build of %s: %s", e.Path, line)
		}
		e.T.Logf("build finding: %s", line)
	}
	return cb
}

// BuildHelm builds the test's cluster path with a chart cache that
// outlives the Builder: the release step installs the packaged charts
// from it.
func (e *Env) BuildHelm(allowErrors bool) *result.ClusterBuild {
	e.T.Helper()
	repo, err := source.OpenWorktree(e.Dir)
	if err != nil {
		e.T.Fatal(err)
	}
	opts := build.DefaultOptions(repo)
	opts.Helm = helm.Options{CacheDir: e.T.TempDir(), Network: source.RunNetwork(nil, true)}
	b, err := build.New(opts)
	if err != nil {
		e.T.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cb := b.BuildClusterPath(ctx, e.Path)
	for _, f := range cb.Findings {
		line := report.NewMasker(cb.Sensitive).Mask(report.FindingLine(f))
		if f.Severity == result.SeverityError && !allowErrors {
			e.T.Fatalf("build of %s: %s", e.Path, line)
		}
		e.T.Logf("build finding: %s", line)
	}
	return cb
}

// Options are test defaults: short timeouts, a holder naming the test,
// events recorded.
func (e *Env) Options() deploy.Options {
	o := deploy.DefaultOptions()
	o.Holder = "test/" + e.ID
	o.Timeout = 45 * time.Second
	o.LockWait = 30 * time.Second
	o.LockTTL = 6 * time.Second
	o.ProgressInterval = time.Second
	o.Tooling = "slipway/test"
	o.Observer = e.Events.Observe
	return o
}

// Deploy builds the repository as it is now and deploys it.
func (e *Env) Deploy(o deploy.Options) *result.ClusterDeploy {
	e.T.Helper()
	return e.DeployBuild(context.Background(), o, e.Build())
}

// DeployBuild deploys cb, logging the result.
func (e *Env) DeployBuild(ctx context.Context, o deploy.Options, cb *result.ClusterBuild) *result.ClusterDeploy {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cd := deploy.New(e.Kube, o).Deploy(ctx, cb)
	e.T.Logf("deploy of %s:\n%s", e.Path, DeployText(cd))
	return cd
}

// DeployText is the deploy's text report.
func DeployText(cd *result.ClusterDeploy) string {
	var buf bytes.Buffer
	if err := report.DeployText(&buf, []*result.ClusterDeploy{cd}, report.NewMasker(nil)); err != nil {
		return err.Error()
	}
	return buf.String()
}

// MustSucceed fails the test unless every Kustomization was applied.
func (e *Env) MustSucceed(cd *result.ClusterDeploy) {
	e.T.Helper()
	if cd.Error != "" {
		e.T.Fatalf("deploy failed: %s", cd.Error)
	}
	for _, k := range cd.Kustomizations {
		if k.Status != result.StatusApplied {
			e.T.Fatalf("Kustomization %s: %s, want applied: %s", k.Ref, k.Status, k.Error)
		}
	}
	if cd.Failed() {
		e.T.Fatal("ClusterDeploy.Failed() is true although every Kustomization was applied")
	}
}

// Inventory reads the ApplySet parent of a Kustomization and its sorted
// object IDs; nil when absent.
func (e *Env) Inventory(ks string) (*corev1.ConfigMap, []string) {
	e.T.Helper()
	cm := &corev1.ConfigMap{}
	err := e.Kube.Client.Get(context.Background(), client.ObjectKey{Namespace: deploy.SystemNamespace, Name: deploy.ParentName(e.Ref(ks))}, cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		e.T.Fatal(err)
	}
	var entries []deploy.Entry
	if err := json.Unmarshal([]byte(cm.Data["inventory"]), &entries); err != nil {
		e.T.Fatalf("inventory of %s: %v", ks, err)
	}
	ids := make([]string, len(entries))
	for i, en := range entries {
		ids[i] = en.ObjectID().String()
	}
	sort.Strings(ids)
	return cm, ids
}

// ConfigMap reads a live ConfigMap; false when it does not exist.
func (e *Env) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	e.T.Helper()
	cm := &corev1.ConfigMap{}
	err := e.Kube.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		e.T.Fatal(err)
	}
	return cm, true
}

// GVK parses "apps/v1 Deployment".
func GVK(apiVersionKind string) schema.GroupVersionKind {
	av, kind, _ := strings.Cut(apiVersionKind, " ")
	gv, err := schema.ParseGroupVersion(av)
	if err != nil {
		panic(err)
	}
	return gv.WithKind(kind)
}

// Get reads a live object ("apps/v1 Deployment"); nil when it does not
// exist.
func Get(t *testing.T, kube *cluster.Cluster, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK(apiVersionKind))
	err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading %s %s/%s: %v", apiVersionKind, ns, name, err)
	}
	return u
}

// MustGet reads a live object, failing the test when it does not exist.
func MustGet(t *testing.T, kube *cluster.Cluster, apiVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := Get(t, kube, apiVersionKind, ns, name)
	if u == nil {
		t.Fatalf("%s %s/%s does not exist", apiVersionKind, ns, name)
	}
	return u
}

// Gone reports whether an object is absent or being deleted.
func Gone(t *testing.T, kube *cluster.Cluster, apiVersionKind, ns, name string) bool {
	t.Helper()
	u := Get(t, kube, apiVersionKind, ns, name)
	return u == nil || u.GetDeletionTimestamp() != nil
}

// Recorder keeps the Observer's events in order.
type Recorder struct {
	t      *testing.T
	mu     sync.Mutex
	events []Recorded
}

// NewRecorder records events into t's log too.
func NewRecorder(t *testing.T) *Recorder { return &Recorder{t: t} }

// Recorded is an event and when it came.
type Recorded struct {
	At time.Time
	deploy.Event
}

// Observe is a deploy.Options.Observer (and uninstall's).
func (r *Recorder) Observe(ev deploy.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Recorded{At: time.Now(), Event: ev})
	ks := "-"
	if ev.Kustomization != nil {
		ks = ev.Kustomization.String()
	}
	r.t.Logf("event %s %s: %s", ev.ClusterPath, ks, ev.Message)
}

// All returns the events so far.
func (r *Recorder) All() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Recorded(nil), r.events...)
}

// Matching returns the events whose message contains s.
func (r *Recorder) Matching(s string) []Recorded {
	var out []Recorded
	for _, ev := range r.All() {
		if strings.Contains(ev.Message, s) {
			out = append(out, ev)
		}
	}
	return out
}
