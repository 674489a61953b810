package clustertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/fakests"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

// A workflow with auth: eks deploys with no secret: the action exchanges
// the job's OIDC token at (fake) STS for the role's credentials and signs
// an EKS token; the local API server verifies it through a webhook
// authenticator that calls the fake STS, as EKS does. STS is reached
// through AWS_ENDPOINT_URL_STS and trusted through AWS_CA_BUNDLE, the
// variables AWS's own tools honour. Another environment is refused by the
// role's trust policy and deploys nothing.
func TestEKSDeploys(t *testing.T) {
	if local == nil {
		t.Skip(skipReason)
	}
	const role = "arn:aws:iam::" + fakests.Account + ":role/slipway-deployer"
	iss := oidcissuer.New(t)
	prod := oidcissuer.Claims{Repository: actiontest.Owner + "/" + actiontest.Repo, Environment: "prod", Ref: "refs/heads/main"}
	runner := iss.NewRunner(t, prod, 10*time.Minute)
	sts := fakests.NewSTS(t, "eu-west-1", role, iss.Verify, prod.Subject())
	webhook := fakests.NewAuthenticator(t, sts, "prod-cluster")
	c := testcluster.ForTest(t, testcluster.Options{Nodes: -1, APIServerArgs: []string{
		"authentication-token-webhook-config-file=" + webhook.ConfigFile(t),
		"authentication-token-webhook-version=v1",
	}})
	ctx := context.Background()
	if err := c.Apply(ctx, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: eks-deployer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "`+role+`"}]
`); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitCan(ctx, role, "create", "namespaces", ""); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "sts-ca.pem")
	if err := os.WriteFile(bundle, sts.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := githubtest.New(actiontest.Owner, actiontest.Repo)
	t.Cleanup(srv.Close)
	srv.AddToken(actiontest.Token, githubtest.WriteAll)
	f := actiontest.NewFleet(t)
	sha := f.Commit("first")
	push := func() (*actiontest.Runner, github.Conclusion) {
		r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": sha})
		for k, v := range map[string]string{
			"GITHUB_SHA": sha, "INPUT_PATH": "clusters/a", "INPUT_AUTH": "eks",
			"INPUT_KUBECONFIG": oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig),
			"INPUT_ROLE-ARN":   role, "INPUT_AWS-REGION": "eu-west-1", "INPUT_CLUSTER-NAME": "prod-cluster",
			"AWS_ENDPOINT_URL_STS": sts.URL, "AWS_CA_BUNDLE": bundle,
		} {
			r.Env[k] = v
		}
		for k, v := range runner.Env() {
			r.Env[k] = v
		}
		out := r.Run()
		actiontest.AssertNoSecrets(t, srv, r, append(runner.Minted(), runner.RequestToken)...)
		return r, out.Result
	}
	version := func() string {
		got, _ := c.Kubectl(ctx, "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
		return got
	}
	r, res := push()
	if res != github.ConclusionSuccess || version() != "1" {
		t.Fatalf("eks deploy: %s, version %q\n%s", res, version(), r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "as "+role) {
		t.Errorf("the log does not name the role:\n%s", r.Log.String())
	}
	runner.SetClaims(oidcissuer.Claims{Repository: prod.Repository, Environment: "staging", Ref: prod.Ref})
	r, res = push()
	if res != github.ConclusionFailure || !strings.Contains(r.Log.String(), "AccessDenied") {
		t.Errorf("staging: %s\n%s", res, r.Log.String())
	}
}
