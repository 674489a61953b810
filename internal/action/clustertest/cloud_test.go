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
	"github.com/slipwayhq/slipway/internal/testutil/fakeentra"
	"github.com/slipwayhq/slipway/internal/testutil/fakegoogle"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

// cloudWorld is a local cluster whose API server authenticates tokens
// through a cloud's webhook authenticator, as EKS, GKE and AKS do, with
// user bound to cluster-admin, and a push workflow to it that takes its
// credential from the job's (fake) GitHub OIDC token only.
type cloudWorld struct {
	t      *testing.T
	c      *testcluster.Cluster
	runner *oidcissuer.Runner
	srv    *githubtest.Server
	fleet  *actiontest.Fleet
	sha    string
	// env is the step's inputs and the cloud's variables, besides the
	// runner's token endpoint.
	env map[string]string
}

// prodJob is the job every cloud's trust is set up for.
var prodJob = oidcissuer.Claims{Repository: actiontest.Owner + "/" + actiontest.Repo, Environment: "prod", Ref: "refs/heads/main"}

func newCloudWorld(t *testing.T, runner *oidcissuer.Runner, webhookConfig, user string, env map[string]string) *cloudWorld {
	t.Helper()
	c := testcluster.ForWebhookAuth(t, webhookConfig, user, "cluster-admin")
	srv := githubtest.New(actiontest.Owner, actiontest.Repo)
	t.Cleanup(srv.Close)
	srv.AddToken(actiontest.Token, githubtest.WriteAll)
	f := actiontest.NewFleet(t)
	w := &cloudWorld{t: t, c: c, runner: runner, srv: srv, fleet: f, sha: f.Commit("first"), env: map[string]string{
		"INPUT_KUBECONFIG": oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig),
	}}
	for k, v := range env {
		w.env[k] = v
	}
	return w
}

// push runs the action for the fleet's commit, checking no token leaked.
func (w *cloudWorld) push() (*actiontest.Runner, github.Conclusion) {
	w.t.Helper()
	r := actiontest.NewRunner(w.t, w.srv, w.fleet.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": w.sha})
	r.Env["GITHUB_SHA"] = w.sha
	r.Env["INPUT_PATH"] = "clusters/a"
	for k, v := range w.env {
		r.Env[k] = v
	}
	for k, v := range w.runner.Env() {
		r.Env[k] = v
	}
	out := r.Run()
	actiontest.AssertNoSecrets(w.t, w.srv, r, append(w.runner.Minted(), w.runner.RequestToken)...)
	return r, out.Result
}

// deployed is the version clusters/a's ConfigMap has in the cluster.
func (w *cloudWorld) deployed() string {
	got, _ := w.c.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
	return got
}

// caFile writes a PEM bundle for the cloud's CA variable.
func caFile(t *testing.T, pem []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A workflow with auth: gke deploys with no secret: the action exchanges
// the job's OIDC token at (fake) Google STS through the workload identity
// provider, then for the service account's access token, which the local
// API server verifies through a webhook authenticator as GKE does. Google
// is reached and trusted through gcloud's own variables. A job of another
// environment may not impersonate the account and deploys nothing.
func TestGKEDeploys(t *testing.T) {
	if local == nil {
		t.Skip(skipReason)
	}
	const (
		provider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/actions"
		sa       = "slipway-deployer@acme-prod.iam.gserviceaccount.com"
	)
	iss := oidcissuer.New(t)
	runner := iss.NewRunner(t, prodJob, 10*time.Minute)
	google := fakegoogle.New(t, provider, prodJob.Repository, sa, iss.Verify, prodJob.Subject())
	w := newCloudWorld(t, runner, google.WebhookConfigFile(t), sa, map[string]string{
		"INPUT_AUTH": "gke", "INPUT_WORKLOAD-IDENTITY-PROVIDER": provider, "INPUT_SERVICE-ACCOUNT": sa,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_STS":            google.URL + "/",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS": google.URL + "/",
		"CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE":             caFile(t, google.CAPEM()),
	})
	r, res := w.push()
	if res != github.ConclusionSuccess || w.deployed() != "1" {
		t.Fatalf("gke deploy: %s, version %q\n%s", res, w.deployed(), r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "as "+sa) {
		t.Errorf("the log does not name the service account:\n%s", r.Log.String())
	}
	runner.SetClaims(oidcissuer.Claims{Repository: prodJob.Repository, Environment: "staging", Ref: prodJob.Ref})
	w.fleet.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "2")})
	w.sha = w.fleet.Commit("bump")
	r, res = w.push()
	if res != github.ConclusionFailure || w.deployed() != "1" || !strings.Contains(r.Log.String(), "PERMISSION_DENIED") {
		t.Errorf("staging: %s, version %q\n%s", res, w.deployed(), r.Log.String())
	}
}

// A workflow with auth: aks deploys with no secret: the job's OIDC token
// is the client assertion of the application's federated credential at
// (fake) Entra ID, for a token of the AKS server application, which the
// local API server verifies through a webhook authenticator as AKS does.
// Entra ID is reached through AZURE_AUTHORITY_HOST and trusted through
// REQUESTS_CA_BUNDLE, the Azure tools' variables. A job of another
// environment has no federated credential and deploys nothing.
func TestAKSDeploys(t *testing.T) {
	if local == nil {
		t.Skip(skipReason)
	}
	const (
		tenant = "11111111-2222-3333-4444-555555555555"
		client = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	)
	iss := oidcissuer.New(t)
	runner := iss.NewRunner(t, prodJob, 10*time.Minute)
	entra := fakeentra.New(t, tenant, client, iss.Verify, prodJob.Subject())
	w := newCloudWorld(t, runner, entra.WebhookConfigFile(t), client, map[string]string{
		"INPUT_AUTH": "aks", "INPUT_TENANT-ID": tenant, "INPUT_CLIENT-ID": client,
		"AZURE_AUTHORITY_HOST": entra.URL,
		"REQUESTS_CA_BUNDLE":   caFile(t, entra.CAPEM()),
	})
	r, res := w.push()
	if res != github.ConclusionSuccess || w.deployed() != "1" {
		t.Fatalf("aks deploy: %s, version %q\n%s", res, w.deployed(), r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "as "+client) {
		t.Errorf("the log does not name the application:\n%s", r.Log.String())
	}
	runner.SetClaims(oidcissuer.Claims{Repository: prodJob.Repository, Environment: "staging", Ref: prodJob.Ref})
	w.fleet.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "2")})
	w.sha = w.fleet.Commit("bump")
	r, res = w.push()
	if res != github.ConclusionFailure || w.deployed() != "1" || !strings.Contains(r.Log.String(), "AADSTS70021") {
		t.Errorf("staging: %s, version %q\n%s", res, w.deployed(), r.Log.String())
	}
}
