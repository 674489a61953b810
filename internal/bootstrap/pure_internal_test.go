package bootstrap

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/nacl/box"

	"github.com/slipwayhq/slipway/internal/kube/auth"
)

// Bootstrap's pieces that need neither a cluster nor GitHub.

func TestSealOpensWithTheRepositoryKey(t *testing.T) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := seal(base64.StdEncoding.EncodeToString(pub[:]), []byte("kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatal(err)
	}
	plain, ok := box.OpenAnonymous(nil, raw, pub, priv)
	if !ok || string(plain) != "kubeconfig" {
		t.Fatalf("sealed box does not open with the key pair: %q %v", plain, ok)
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := seal(bad, []byte("x")); err == nil {
			t.Errorf("public key %q accepted", bad)
		}
	}
}

func TestWorkflowKeepsTheKubeconfigFromPullRequests(t *testing.T) {
	for _, mode := range []auth.Mode{auth.ModeKubeconfig, auth.ModeGitHubOIDC} {
		t.Run(string(mode), func(t *testing.T) {
			checkWorkflow(t, workflow(workflowOptions{ClusterPath: "clusters/prod", ClusterName: "prod", Branch: "main", ActionRef: DefaultActionRef,
				Auth: mode, Server: "https://k8s.example.test:6443", CertificateAuthority: "Q0E="}), mode)
		})
	}
}

func checkWorkflow(t *testing.T, text string, mode auth.Mode) {
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			If          string            `yaml:"if"`
			Environment string            `yaml:"environment"`
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
		t.Fatalf("the workflow is not YAML: %v\n%s", err, text)
	}
	for _, ev := range []string{"push", "pull_request", "workflow_dispatch"} {
		if _, ok := wf.On[ev]; !ok {
			t.Errorf("no %s trigger", ev)
		}
	}
	for name, job := range wf.Jobs {
		usesKubeconfig := false
		for _, s := range job.Steps {
			if strings.Contains(s.With["kubeconfig"], "secrets.") {
				usesKubeconfig = true
			}
			if strings.HasPrefix(s.Uses, "slipwayhq/") && s.With["path"] != "clusters/prod" {
				t.Errorf("job %s: path %q", name, s.With["path"])
			}
		}
		if strings.Contains(job.If, "== 'pull_request'") && (job.Environment != "" || usesKubeconfig) {
			t.Errorf("job %s runs on pull requests and can read the environment's secrets", name)
		}
		if usesKubeconfig && job.Environment != "prod" {
			t.Errorf("job %s reads the kubeconfig outside the environment prod (%q)", name, job.Environment)
		}
		if mode == auth.ModeGitHubOIDC && usesKubeconfig {
			t.Errorf("job %s reads a kubeconfig secret although the cluster trusts GitHub's tokens", name)
		}
		// Only the deploy job may ask for an OIDC token: a pull request's
		// job with one could deploy the fork's content.
		if idToken := job.Permissions["id-token"] == "write"; idToken != (mode == auth.ModeGitHubOIDC && job.Environment == "prod") {
			t.Errorf("job %s (environment %q): id-token write = %v", name, job.Environment, idToken)
		}
		if job.Permissions["contents"] != "read" {
			t.Errorf("job %s: contents permission %q", name, job.Permissions["contents"])
		}
	}
	if WorkflowPath("prod") != ".github/workflows/slipway-prod.yaml" {
		t.Errorf("WorkflowPath = %s", WorkflowPath("prod"))
	}
}

func TestSystemManifestsDecode(t *testing.T) {
	files := systemManifests(manifestOptions{ClusterPath: "clusters/prod", Auth: auth.ModeKubeconfig, ClusterRole: "cluster-admin"})
	if len(files) == 0 {
		t.Fatal("no system manifests")
	}
	kinds := map[string]bool{}
	for name, text := range files {
		if !strings.HasPrefix(name, "clusters/prod/") {
			t.Errorf("%s is outside the cluster path", name)
		}
		objs, err := decodeManifests(name, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			kinds[u.GetKind()] = true
			if u.GetAPIVersion() == "kustomize.config.k8s.io/v1beta1" {
				continue // the folder's kustomization.yaml, not applied
			}
			if u.GetLabels()["app.kubernetes.io/managed-by"] != "slipway" {
				t.Errorf("%s %s is not labelled as slipway's", u.GetKind(), u.GetName())
			}
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount"} {
		if !kinds[k] {
			t.Errorf("no %s among the system manifests (%v)", k, kinds)
		}
	}
}

func TestDecodeManifests(t *testing.T) {
	objs, err := decodeManifests("x.yaml", []byte("---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"))
	if err != nil || len(objs) != 1 || objs[0].GetName() != "a" {
		t.Fatalf("objs = %v, err = %v", objs, err)
	}
	if _, err := decodeManifests("bad.yaml", []byte("kind: [unclosed\n")); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("malformed YAML: err = %v, want one naming the file", err)
	}
}

func TestClusterNameAndScopes(t *testing.T) {
	for in, want := range map[string]string{"clusters/prod": "prod", "clusters/prod/": "prod", "./eu/west-1": "west-1"} {
		if got := ClusterName(in); got != want {
			t.Errorf("ClusterName(%q) = %q, want %q", in, got, want)
		}
	}
	if !hasScope("repo, workflow", "workflow") || hasScope("repo", "workflow") || hasScope("workflows", "workflow") {
		t.Error("hasScope matches wrongly")
	}
}

func TestWithDefaultsFillsOnlyWhatIsEmpty(t *testing.T) {
	o := Options{}.withDefaults()
	if o.Branch != "main" || o.ActionRef != DefaultActionRef || o.Auth != auth.ModeKubeconfig || o.TokenTTL != DefaultTokenTTL || o.Now == nil || o.Author.Name != "slipway" {
		t.Errorf("defaults: %+v", o)
	}
	given := Options{Branch: "trunk", Auth: auth.ModeGitHubOIDC, Author: Author{Name: "me", Email: "me@example.com"}}.withDefaults()
	if given.Branch != "trunk" || given.Auth != auth.ModeGitHubOIDC || given.Author.Name != "me" {
		t.Errorf("given values replaced: %+v", given)
	}
}

// The system manifests are the user's once written; the workflow is
// slipway's.
func TestBootstrapFilesKeepsManifestsNotTheWorkflow(t *testing.T) {
	files, keep := bootstrapFiles(manifestOptions{ClusterPath: "clusters/prod", Auth: auth.ModeKubeconfig},
		workflowOptions{ClusterPath: "clusters/prod", ClusterName: "prod", Branch: "main", ActionRef: DefaultActionRef, Auth: auth.ModeKubeconfig}, "prod")
	wf := WorkflowPath("prod")
	if files[wf] == "" {
		t.Fatalf("no workflow %s among %d files", wf, len(files))
	}
	if keep[wf] {
		t.Errorf("the workflow is kept as it is; want it kept current")
	}
	if len(keep) != len(files)-1 {
		t.Errorf("%d kept of %d files, want every manifest", len(keep), len(files))
	}
}

func TestCommitMessageListsTheFiles(t *testing.T) {
	got := commitMessage("clusters/prod", []string{"a.yaml", "b.yaml"})
	want := "Add slipway to clusters/prod\n\nWritten by slipway bootstrap:\n- a.yaml\n- b.yaml\n"
	if got != want {
		t.Errorf("commitMessage = %q, want %q", got, want)
	}
}
