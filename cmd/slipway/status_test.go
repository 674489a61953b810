package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// statusFleet is a one-cluster-path repository: Kustomization
// flux-system/st-apps deploys a Namespace, a ConfigMap, a Deployment and a
// HelmRelease of a chart in the repository (one ConfigMap).
var statusFleet = map[string]string{
	"clusters/st/flux-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-sync.yaml]\n",
	"clusters/st/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  ref: {branch: main}
  url: https://example.invalid/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: st, namespace: flux-system}
spec:
  interval: 10m
  path: ./clusters/st
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`,
	"clusters/st/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: st-apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps/st
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: flux-system}
`,
	"apps/st/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ns.yaml, settings.yaml, web.yaml, hello.yaml]\n",
	"apps/st/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: st}\n",
	"apps/st/settings.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: st}\ndata: {k: v}\n",
	"apps/st/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: st}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
`,
	"apps/st/hello.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: hello, namespace: st}
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/hello
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
`,
	"charts/hello/Chart.yaml":               "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
	"charts/hello/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hello}\ndata: {message: hi}\n",
}

// statusDoc is the part of `status -o json` the tests read.
type statusDoc struct {
	Healthy  bool
	Clusters []struct {
		Path           string
		Error          string
		Reason         string
		Deployed       struct{ Revision, By, Version, Outcome string }
		Kustomizations []statusKustomization
	}
}

type statusKustomization struct {
	Ref        struct{ Namespace, Name string }
	Objects    int
	Health     map[string]int
	NotCurrent []struct {
		ID     struct{ Kind, Namespace, Name string }
		Health string
	}
	Releases []struct {
		Release, State, Status, Chart string
		Revision                      int
	}
}

func decodeStatus(t *testing.T, r cliResult) statusDoc {
	t.Helper()
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("status -o json is not JSON: %v\n%s\n%s", err, r.out, r.err)
	}
	return doc
}

// TestStatus deploys a small fleet with apply, then reads it back with
// status: the deploy record, object counts and the Helm release, in text
// and JSON; with read-only credentials; and after a Deployment stopped
// being available (exit 1, the Deployment named).
func TestStatus(t *testing.T) {
	c := testcluster.ForTest(t, testcluster.Options{})
	dir := filepath.Join(t.TempDir(), "fleet")
	writeFiles(t, dir, statusFleet)
	if _, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, dir, "fleet")
	head := headCommit(t, dir)
	ciEnv := map[string]string{"GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r"}
	r := runCLI(t, ciEnv, "apply", "--repo", dir, "--kubeconfig", c.Kubeconfig, "--cache-dir", t.TempDir(), "--wait", "--timeout", "2m")
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	t.Run("text", func(t *testing.T) {
		r := runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig)
		t.Logf("status:\n%s", r.out)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		for _, want := range []string{
			"► clusters/st\n",
			"✔ deployed " + head[:12] + " (succeeded) ",
			" by https://github.com/o/r/actions/runs/42 with slipway ",
			"✔ flux-system/st-apps: 3 objects: 3 Current, 1 HelmRelease\n",
			"HelmRelease/st/hello: release st/hello revision 1 deployed (hello-0.1.0)\n",
			"drift: not checked (--drift)",
			"✔ 1 cluster path(s) healthy\n",
		} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q:\n%s", want, r.out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		doc := decodeStatus(t, runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig, "-o", "json"))
		if !doc.Healthy || len(doc.Clusters) != 1 || doc.Clusters[0].Path != "clusters/st" {
			t.Fatalf("%+v", doc)
		}
		cs := doc.Clusters[0]
		if cs.Deployed.Revision != head || cs.Deployed.Outcome != "succeeded" || cs.Deployed.By != "https://github.com/o/r/actions/runs/42" || cs.Deployed.Version == "" {
			t.Errorf("deployed: %+v", cs.Deployed)
		}
		apps := findKustomization(t, doc, "st-apps")
		if apps.Objects != 3 || apps.Health["Current"] != 3 || len(apps.NotCurrent) != 0 {
			t.Errorf("st-apps: %+v", apps)
		}
		if len(apps.Releases) != 1 || apps.Releases[0].Release != "hello" || apps.Releases[0].Revision != 1 || apps.Releases[0].Status != "deployed" || apps.Releases[0].State != "found" {
			t.Errorf("releases: %+v", apps.Releases)
		}
	})

	t.Run("read-only credentials", func(t *testing.T) {
		kc := readOnlyKubeconfig(t, c)
		if out, _ := c.Kubectl(t.Context(), "--kubeconfig", kc, "auth", "can-i", "list", "secrets", "-n", "st"); strings.TrimSpace(out) != "no" {
			t.Fatalf("the read-only token may list Secrets (%q): the test proves nothing", out)
		}
		r := runCLI(t, nil, "status", "--kubeconfig", kc)
		t.Logf("status with read-only credentials:\n%s", r.out)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		for _, want := range []string{
			"✔ deployed " + head[:12] + " (succeeded) ",
			"✔ flux-system/st-apps: 3 objects: 3 Current, 1 HelmRelease\n",
			"HelmRelease/st/hello: release st/hello: not readable (RBAC",
		} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q:\n%s", want, r.out)
			}
		}
	})

	t.Run("unknown path", func(t *testing.T) {
		r := runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig, "--path", "clusters/nowhere")
		if r.code != exitFailed || !strings.Contains(r.out, "clusters/nowhere was never deployed") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		// JSON: the reason to branch on beside the message.
		doc := decodeStatus(t, runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig, "--path", "clusters/nowhere", "-o", "json"))
		if len(doc.Clusters) != 1 || doc.Clusters[0].Reason != "NotFound" || !strings.Contains(doc.Clusters[0].Error, "never deployed") {
			t.Errorf("status -o json of a path never deployed: %+v", doc.Clusters)
		}
	})

	t.Run("drift", func(t *testing.T) {
		drift := func() cliResult {
			return runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig, "--drift", "--repo", dir, "--cache-dir", t.TempDir())
		}
		r := drift()
		if r.code != 0 || !strings.Contains(r.out, "✔ drift: none\n") {
			t.Fatalf("before any change: exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		if _, err := c.Kubectl(t.Context(), "-n", "st", "patch", "configmap", "settings", "--type", "merge", "-p", `{"data":{"k":"edited by hand"}}`); err != nil {
			t.Fatal(err)
		}
		r = drift()
		t.Logf("status --drift after an edit by hand:\n%s", r.out)
		if r.code != exitFailed || !strings.Contains(r.out, "✗ drift: 1 object(s) differ from the deployed revision: ConfigMap/st/settings\n") {
			t.Errorf("after an edit: exit %d\n%s\n%s", r.code, r.out, r.err)
		}
		// Put it back: the next subtest expects no drift to be checked.
		if _, err := c.Kubectl(t.Context(), "-n", "st", "patch", "configmap", "settings", "--type", "merge", "-p", `{"data":{"k":"v"}}`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unhealthy", func(t *testing.T) {
		// A rollout no node can take: the new pod stays Pending, the
		// Deployment's rollout never completes.
		if _, err := c.Kubectl(t.Context(), "-n", "st", "patch", "deployment", "web", "--type", "merge", "-p", `{"spec":{"template":{"spec":{"nodeSelector":{"slipway.test/none":"true"}}}}}`); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig)
		t.Logf("status of an unhealthy Deployment:\n%s", r.out)
		if r.code != exitFailed {
			t.Fatalf("exit %d, want %d\n%s\n%s", r.code, exitFailed, r.out, r.err)
		}
		for _, want := range []string{
			"✗ flux-system/st-apps: 3 objects: 2 Current, 1 InProgress, 1 HelmRelease\n",
			"      Deployment/st/web InProgress",
			"✗ 1 of 1 cluster path(s) not healthy\n",
		} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q:\n%s", want, r.out)
			}
		}
		r = runCLI(t, nil, "status", "--kubeconfig", c.Kubeconfig, "-o", "json")
		doc := decodeStatus(t, r)
		apps := findKustomization(t, doc, "st-apps")
		if r.code != exitFailed || doc.Healthy || apps.Health["InProgress"] != 1 || len(apps.NotCurrent) != 1 || apps.NotCurrent[0].ID.Name != "web" {
			t.Errorf("exit %d, %+v", r.code, apps)
		}
	})
}

func findKustomization(t *testing.T, doc statusDoc, name string) *statusKustomization {
	t.Helper()
	for _, cs := range doc.Clusters {
		for i := range cs.Kustomizations {
			if cs.Kustomizations[i].Ref.Name == name {
				return &cs.Kustomizations[i]
			}
		}
	}
	t.Fatalf("no Kustomization %s in %+v", name, doc)
	return nil
}

func headCommit(t *testing.T, dir string) string {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

// readOnlyKubeconfig returns a kubeconfig for a ServiceAccount bound to
// the built-in "view" ClusterRole plus reading Leases and ConfigMaps in
// slipway-system: what a dashboard or an on-call engineer gets.
func readOnlyKubeconfig(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	ns := deploy.SystemNamespace
	err := c.Apply(t.Context(), fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: status-reader, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: status-reader-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: status-reader, namespace: %[1]s}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: status-reader, namespace: %[1]s}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: status-reader, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: status-reader}
subjects: [{kind: ServiceAccount, name: status-reader, namespace: %[1]s}]
`, ns))
	if err != nil {
		t.Fatal(err)
	}
	reader := "system:serviceaccount:" + ns + ":status-reader"
	for _, r := range []struct{ resource, ns string }{{"deployments", ""}, {"leases", ns}} {
		if err := c.WaitCan(t.Context(), reader, "list", r.resource, r.ns); err != nil {
			t.Fatal(err)
		}
	}
	token, err := c.Kubectl(t.Context(), "-n", ns, "create", "token", "status-reader", "--duration", "1h")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := cluster.RESTConfig(cluster.KubeconfigOptions{Path: c.Kubeconfig}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca := admin.CAData
	if len(ca) == 0 && admin.CAFile != "" {
		if ca, err = os.ReadFile(admin.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: ca, InsecureSkipTLSVerify: admin.Insecure && len(ca) == 0, TLSServerName: admin.ServerName}
	cfg.AuthInfos["status-reader"] = &clientcmdapi.AuthInfo{Token: strings.TrimSpace(token)}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "status-reader"}
	cfg.CurrentContext = "local"
	path := filepath.Join(t.TempDir(), "read-only.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// A wrong output format is a usage error before any cluster is reached.
func TestStatusUsage(t *testing.T) {
	r := runCLI(t, nil, "status", "--kubeconfig", filepath.Join(t.TempDir(), "missing"), "-o", "yaml")
	if r.code != exitUsage || !strings.Contains(r.err, "-o yaml: want text or json") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
