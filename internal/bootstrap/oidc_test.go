package bootstrap_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/bootstrap"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

// TestBootstrapGitHubOIDC: with --auth github-oidc bootstrap stores no
// secret and creates no ServiceAccount; it binds the role to the GitHub
// identity of the environment's jobs (checked by impersonating it against
// the real API server: that environment may deploy, another may not),
// writes a workflow that requests an OIDC token and names the cluster
// without a credential, and returns the AuthenticationConfiguration the
// API server needs.
func TestBootstrapGitHubOIDC(t *testing.T) {
	w := newWorld(t)
	path := "clusters/prod"
	o := w.options(path)
	o.Auth = auth.ModeGitHubOIDC
	res := w.run(o)
	t.Cleanup(func() { runUninstall(t, uninstall.Options{}) })

	if res.SecretStored || res.TokenExpires != nil {
		t.Errorf("github-oidc stored a secret: %+v", res)
	}
	if env := w.gh.RepoState(owner, repo).Environments["prod"]; env == nil || len(env.Secrets) != 0 {
		t.Errorf("environment prod: %+v, want it to exist with no secret", env)
	}
	if _, ok := exists(t, "v1 ServiceAccount", deploy.SystemNamespace, bootstrap.DeployerName); ok {
		t.Errorf("a ServiceAccount was created for github-oidc")
	}
	wantUser := "github:repo:" + owner + "/" + repo + ":environment:prod"
	if res.GitHubUser != wantUser {
		t.Errorf("GitHubUser %q, want %q", res.GitHubUser, wantUser)
	}
	for _, want := range []string{"kind: AuthenticationConfiguration", "url: " + auth.GitHubIssuer, `claims.repository in ["` + owner + "/" + repo + `"]`} {
		if !strings.Contains(res.AuthenticationConfiguration, want) {
			t.Errorf("AuthenticationConfiguration lacks %q:\n%s", want, res.AuthenticationConfiguration)
		}
	}

	if !mayCreateNamespaces(t, wantUser) {
		t.Errorf("%s may not deploy", wantUser)
	}
	if mayCreateNamespaces(t, "github:repo:"+owner+"/"+repo+":environment:other") {
		t.Errorf("another environment's jobs may deploy")
	}

	dir, _ := w.clone()
	file := filepath.Join(dir, bootstrap.WorkflowPath("prod"))
	checkWorkflow(t, file)
	data, _ := os.ReadFile(file)
	var wf struct {
		Jobs map[string]struct {
			Permissions map[string]string `json:"permissions"`
			Steps       []struct {
				With map[string]string `json:"with"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.Jobs["deploy"].Permissions["id-token"] != "write" || wf.Jobs["diff"].Permissions["id-token"] != "" {
		t.Errorf("id-token permission: deploy %q, diff %q; want write on deploy only", wf.Jobs["deploy"].Permissions["id-token"], wf.Jobs["diff"].Permissions["id-token"])
	}
	with := wf.Jobs["deploy"].Steps[1].With
	if with["auth"] != "github-oidc" || with["server"] != admin.Config.Host || !strings.HasPrefix(with["certificate-authority"], "-----BEGIN CERTIFICATE-----") || with["kubeconfig"] != "" {
		t.Errorf("deploy step inputs: %v", with)
	}
}

// mayCreateNamespaces asks the API server, as user, whether user may
// create namespaces.
func mayCreateNamespaces(t *testing.T, user string) bool {
	t.Helper()
	cfg := rest.CopyConfig(admin.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := cluster.Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "namespaces"},
	}}
	if err := c.Client.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r.Status.Allowed
}
