package bootstrap_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-github/v84/github"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/bootstrap"
	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
	"github.com/slipwayhq/slipway/internal/testutil/gitserver"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

const (
	owner = "platform"
	repo  = "fleet"
	token = "ghp_bootstrapTestToken0123456789"
)

// world is a fake GitHub whose repositories live on a real Git server.
type world struct {
	t   *testing.T
	gh  *githubtest.Server
	git *gitserver.Server
	api *github.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if local == nil {
		t.Skip(skipReason)
	}
	w := &world{t: t, gh: githubtest.New(owner, repo), git: gitserver.New(t)}
	t.Cleanup(w.gh.Close)
	w.git.SetToken(token)
	w.gh.AddUser(token, githubtest.User{Login: owner, Scopes: "repo, workflow"})
	w.gh.CloneURLs(func(o, n string) string {
		w.git.CreateBare(o + "/" + n + ".git")
		return w.git.URL(o + "/" + n + ".git")
	})
	w.api = github.NewClient(&http.Client{}).WithAuthToken(token)
	u, _ := url.Parse(w.gh.URL + "/")
	w.api.BaseURL = u
	return w
}

func (w *world) options(path string) bootstrap.Options {
	return bootstrap.Options{
		Owner: owner, Repository: repo, Personal: true, Private: true, Branch: "main",
		ClusterPath: path, Token: token, Cluster: admin, GitHub: w.api,
		Observer: func(l string) { w.t.Log(l) },
		Now:      func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
	}
}

func (w *world) run(o bootstrap.Options) *bootstrap.Result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := bootstrap.Run(ctx, o)
	if err != nil {
		w.t.Fatalf("bootstrap: %v", err)
	}
	return res
}

// clone checks the repository out as a user would.
func (w *world) clone() (string, *git.Repository) {
	w.t.Helper()
	dir := w.t.TempDir()
	r, err := git.PlainClone(dir, false, &git.CloneOptions{URL: w.git.URL(owner + "/" + repo + ".git"), Auth: &githttp.BasicAuth{Username: "x", Password: token}})
	if err != nil {
		w.t.Fatalf("clone: %v", err)
	}
	return dir, r
}

func (w *world) push(r *git.Repository, dir string, files map[string]string, msg string) {
	w.t.Helper()
	wt, _ := r.Worktree()
	for name, content := range files {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			w.t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			w.t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "dev", Email: "dev@example.org", When: time.Now()}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
		w.t.Fatal(err)
	}
	if err := r.Push(&git.PushOptions{Auth: &githttp.BasicAuth{Username: "x", Password: token}}); err != nil {
		w.t.Fatalf("push: %v", err)
	}
}

// deployAs builds the cluster path of the checkout and deploys it with a
// kubeconfig's rights, as the generated workflow does.
func deployAs(t *testing.T, kubeconfig []byte, dir, path string) *result.ClusterDeploy {
	t.Helper()
	cfg, err := cluster.RESTConfig(cluster.KubeconfigOptions{Content: string(kubeconfig), Untrusted: true}, nil)
	if err != nil {
		t.Fatalf("deployer kubeconfig: %v", err)
	}
	c, err := cluster.Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := source.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := build.New(build.DefaultOptions(rp))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cb := b.BuildClusterPath(ctx, path)
	if cb.HasErrors() {
		t.Fatalf("build: %+v", cb.Findings)
	}
	o := deploy.DefaultOptions()
	o.Holder, o.Timeout, o.LockTTL = "test", time.Minute, 5*time.Second
	cd := deploy.New(c, o).Deploy(ctx, cb)
	if cd.Failed() {
		t.Fatalf("deploy as the deployer failed: %s %+v", cd.Error, cd.Kustomizations)
	}
	return cd
}

func exists(t *testing.T, apiVersionKind, ns, name string) (*unstructured.Unstructured, bool) {
	t.Helper()
	av, kind, _ := strings.Cut(apiVersionKind, " ")
	gv, _ := schema.ParseGroupVersion(av)
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gv.WithKind(kind))
	err := admin.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return u, true
}

func runUninstall(t *testing.T, o uninstall.Options) *result.Uninstall {
	t.Helper()
	o.Holder, o.LockWait, o.LockTTL = "test", 20*time.Second, 5*time.Second
	o.Timeout = time.Minute
	o.Observer = func(e deploy.Event) { t.Log(e.Message) }
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u := uninstall.Run(ctx, admin, o)
	if u.Failed() {
		t.Fatalf("uninstall failed: %v", u.Errors)
	}
	return u
}

// TestBootstrapDeployUninstall goes from an empty GitHub account and a
// bare cluster to push deploys, and back: the whole life of slipway on a
// cluster.
func TestBootstrapDeployUninstall(t *testing.T) {
	w := newWorld(t)
	path := "clusters/prod"

	// A dry run changes nothing anywhere.
	o := w.options(path)
	o.DryRun = true
	dry := w.run(o)
	if !dry.Created || dry.Commit != "" || dry.SecretStored {
		t.Errorf("dry-run result %+v: want would-create, no commit, no secret", dry)
	}
	if w.gh.RepoState(owner, repo) != nil {
		t.Fatalf("dry-run created the repository")
	}
	if _, ok := exists(t, "v1 Namespace", "", deploy.SystemNamespace); ok {
		t.Fatalf("dry-run created %s", deploy.SystemNamespace)
	}

	// From nothing.
	res := w.run(w.options(path))
	if !res.Created || res.Commit == "" || !res.SecretStored || !res.Changed {
		t.Fatalf("first bootstrap %+v: want repository created, commit pushed, secret stored", res)
	}
	st := w.gh.RepoState(owner, repo)
	if !st.Private {
		t.Errorf("repository created public; --private defaults to true")
	}
	dir, r := w.clone()
	head, _ := r.Head()
	commit, _ := r.CommitObject(head.Hash())
	if commit.Author.Name != "slipway" || !strings.Contains(commit.Message, "Add slipway to clusters/prod") || !strings.Contains(commit.Message, bootstrap.WorkflowPath("prod")) {
		t.Errorf("commit by %q: %q; want attributed to slipway, saying what was added", commit.Author.Name, commit.Message)
	}
	checkWorkflow(t, filepath.Join(dir, bootstrap.WorkflowPath("prod")))
	for _, f := range []string{"namespace.yaml", "deployer.yaml", "kustomization.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, path, bootstrap.SystemDir, f)); err != nil {
			t.Errorf("system manifest %s not committed: %v", f, err)
		}
	}
	if _, ok := exists(t, "rbac.authorization.k8s.io/v1 ClusterRoleBinding", "", bootstrap.DeployerName); !ok {
		t.Fatalf("the deployer's ClusterRoleBinding was not applied")
	}

	// The stored secret opens (GitHub's side) to a kubeconfig of the
	// deployer, never of the administrator.
	kc, err := w.gh.OpenSecret(owner, repo, "prod", bootstrap.KubeconfigSecret)
	if err != nil {
		t.Fatal(err)
	}
	whoami(t, kc, "system:serviceaccount:"+deploy.SystemNamespace+":"+bootstrap.DeployerName)
	// The token is a TokenRequest's, with a stated expiry; no token Secret
	// exists in the cluster.
	if res.TokenExpires == nil || time.Until(*res.TokenExpires) > bootstrap.DefaultTokenTTL || time.Until(*res.TokenExpires) < bootstrap.DefaultTokenTTL-time.Hour {
		t.Errorf("token expiry %v, want about %s from now", res.TokenExpires, bootstrap.DefaultTokenTTL)
	}
	secrets := &corev1.SecretList{}
	if err := admin.Client.List(context.Background(), secrets, client.InNamespace(deploy.SystemNamespace)); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		if s.Type == corev1.SecretTypeServiceAccountToken {
			t.Errorf("bootstrap left a long-lived token Secret %s", s.Name)
		}
	}

	// Again: nothing changes, nothing is pushed or stored.
	pushes := w.git.Pushes(owner + "/" + repo + ".git")
	writes := w.gh.RepoState(owner, repo).Environments["prod"].Secrets[bootstrap.KubeconfigSecret].Writes
	again := w.run(w.options(path))
	if again.Changed || again.Commit != "" || again.SecretStored || again.Created {
		t.Errorf("second bootstrap changed something: %+v", again)
	}
	for _, c := range again.Applied {
		if c.Action != result.ActionUnchanged {
			t.Errorf("second bootstrap: %s %s, want unchanged", c.ID, c.Action)
		}
	}
	if p := w.git.Pushes(owner + "/" + repo + ".git"); p != pushes {
		t.Errorf("second bootstrap pushed (%d pushes, was %d)", p, pushes)
	}
	if got := w.gh.RepoState(owner, repo).Environments["prod"].Secrets[bootstrap.KubeconfigSecret].Writes; got != writes {
		t.Errorf("second bootstrap rewrote the secret")
	}

	// A changed flag changes only what it must: the workflow.
	o = w.options(path)
	o.ActionRef = "slipwayhq/slipway@v1.2.3"
	changed := w.run(o)
	if len(changed.Files) != 1 || changed.Files[0] != bootstrap.WorkflowPath("prod") || changed.SecretStored {
		t.Errorf("changing --action: files %v, secret stored %t; want only the workflow", changed.Files, changed.SecretStored)
	}

	// The team adds an app and pushes; the workflow deploys it with the
	// deployer's kubeconfig.
	dir, r = w.clone()
	w.push(r, dir, map[string]string{
		path + "/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps/prod
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`,
		"apps/prod/app.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue}
`,
	}, "Add the shop")
	deployAs(t, kc, dir, path)
	if _, ok := exists(t, "v1 ConfigMap", "shop", "settings"); !ok {
		t.Fatalf("the deployer did not deploy the app")
	}

	// Uninstall: slipway is gone, the app keeps running, unmanaged.
	runUninstall(t, uninstall.Options{})
	if _, ok := exists(t, "v1 Namespace", "", deploy.SystemNamespace); ok {
		t.Errorf("%s still exists after uninstall", deploy.SystemNamespace)
	}
	for _, kind := range []string{"ClusterRoleBinding", "ClusterRole"} {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind(kind + "List"))
		if err := admin.Client.List(context.Background(), list, client.MatchingLabels{deploy.LabelSystem: "true"}); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 0 {
			t.Errorf("%s %s left after uninstall", kind, list.Items[0].GetName())
		}
	}
	cm, ok := exists(t, "v1 ConfigMap", "shop", "settings")
	if !ok {
		t.Fatalf("uninstall deleted the app's ConfigMap; workloads must keep running")
	}
	if _, managed := cm.GetLabels()[deploy.LabelApplySetPartOf]; managed {
		t.Errorf("the app's ConfigMap is still labelled as an ApplySet member")
	}

	// Back again, and this time uninstall --prune leaves nothing of the
	// repository's objects.
	res = w.run(w.options(path))
	if !res.SecretStored {
		t.Errorf("re-bootstrap after uninstall: the new token was not stored")
	}
	kc, _ = w.gh.OpenSecret(owner, repo, "prod", bootstrap.KubeconfigSecret)
	deployAs(t, kc, dir, path)
	runUninstall(t, uninstall.Options{Prune: true})
	for _, o := range [][3]string{{"v1 ConfigMap", "shop", "settings"}, {"v1 Namespace", "", "shop"}, {"v1 Namespace", "", deploy.SystemNamespace}} {
		if _, ok := exists(t, o[0], o[1], o[2]); ok {
			t.Errorf("%s %s/%s left after uninstall --prune", o[0], o[1], o[2])
		}
	}

	// --github removes the workflow (a commit) and the secret.
	ctx := context.Background()
	err = bootstrap.UninstallGitHub(ctx, bootstrap.GitHubCleanup{Owner: owner, Repository: repo, Branch: "main", ClusterPath: path, Token: token, GitHub: w.api})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ = w.clone()
	if _, err := os.Stat(filepath.Join(dir, bootstrap.WorkflowPath("prod"))); !os.IsNotExist(err) {
		t.Errorf("workflow still in the repository after uninstall --github")
	}
	if _, err := w.gh.OpenSecret(owner, repo, "prod", bootstrap.KubeconfigSecret); err == nil {
		t.Errorf("kubeconfig secret still stored after uninstall --github")
	}
}

func whoami(t *testing.T, kubeconfig []byte, want string) {
	t.Helper()
	if strings.Contains(string(kubeconfig), "client-key-data") {
		t.Errorf("the stored kubeconfig carries a client key: it must hold only the deployer's token")
	}
	cfg, err := cluster.RESTConfig(cluster.KubeconfigOptions{Content: string(kubeconfig), Untrusted: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &authenticationv1.SelfSubjectReview{}
	if err := c.Client.Create(context.Background(), r); err != nil {
		t.Fatalf("SelfSubjectReview with the stored kubeconfig: %v", err)
	}
	if got := r.Status.UserInfo.Username; got != want {
		t.Errorf("stored kubeconfig authenticates as %q, want %q", got, want)
	}
}

// checkWorkflow parses the generated workflow and checks every input it
// gives the action is one action.yml declares, and its permissions.
func checkWorkflow(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Permissions map[string]string `json:"permissions"`
		Jobs        map[string]struct {
			Environment string            `json:"environment"`
			Permissions map[string]string `json:"permissions"`
			Steps       []struct {
				Uses string            `json:"uses"`
				With map[string]string `json:"with"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("workflow is not valid YAML: %v", err)
	}
	actionYML, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]any `json:"inputs"`
	}
	if err := yaml.Unmarshal(actionYML, &action); err != nil {
		t.Fatal(err)
	}
	used := 0
	for name, job := range wf.Jobs {
		for _, s := range job.Steps {
			if !strings.HasPrefix(s.Uses, "slipwayhq/slipway@") {
				continue
			}
			used++
			for in := range s.With {
				if _, ok := action.Inputs[in]; !ok {
					t.Errorf("job %s gives the action input %q, which action.yml does not declare", name, in)
				}
			}
		}
		if job.Permissions["contents"] != "read" {
			t.Errorf("job %s: contents permission %q, want read", name, job.Permissions["contents"])
		}
	}
	if used != 2 {
		t.Errorf("the workflow uses the action in %d steps, want 2 (diff and deploy)", used)
	}
	if wf.Jobs["diff"].Environment != "" {
		t.Errorf("the pull-request job must not use the environment (it would expose the kubeconfig)")
	}
	if wf.Jobs["deploy"].Environment != "prod" {
		t.Errorf("the deploy job's environment is %q, want prod", wf.Jobs["deploy"].Environment)
	}
	if wf.Permissions["contents"] != "read" || len(wf.Permissions) != 1 {
		t.Errorf("workflow-level permissions %v, want only contents: read", wf.Permissions)
	}
}

// TestPreflightRefusesBadToken: a wrong token fails the checks and
// bootstrap changes nothing.
func TestPreflightRefusesBadToken(t *testing.T) {
	w := newWorld(t)
	bad := github.NewClient(&http.Client{}).WithAuthToken("ghp_wrong")
	bad.BaseURL = w.api.BaseURL
	o := w.options("clusters/dev")
	o.GitHub = bad
	_, err := bootstrap.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "pre-flight") {
		t.Fatalf("bootstrap with a wrong token: %v, want pre-flight failure", err)
	}
	checks := bootstrap.Pre(context.Background(), bootstrap.CheckOptions{GitHub: bad, Owner: owner, Repository: repo})
	if bootstrap.Passed(checks) || !strings.Contains(checks[0].Message, "401") {
		t.Errorf("checks with a wrong token: %+v", checks)
	}
	if w.gh.RepoState(owner, repo) != nil {
		t.Errorf("a failed pre-flight created the repository")
	}
	var names []string
	for _, r := range w.gh.Requests() {
		if r.Method != http.MethodGet {
			names = append(names, r.Method+" "+r.Path)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		t.Errorf("a failed pre-flight made changing requests: %v", names)
	}
	// A classic token without the repo scope cannot create the repository.
	w.gh.AddUser("ghp_noscope", githubtest.User{Login: owner, Scopes: "read:org"})
	ns := github.NewClient(&http.Client{}).WithAuthToken("ghp_noscope")
	ns.BaseURL = w.api.BaseURL
	checks = bootstrap.Pre(context.Background(), bootstrap.CheckOptions{GitHub: ns, Owner: owner, Repository: repo})
	if bootstrap.Passed(checks) {
		t.Errorf("checks passed for a token without the repo scope: %+v", checks)
	}
}
