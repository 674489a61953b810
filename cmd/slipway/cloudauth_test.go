package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/fakeentra"
	"github.com/slipwayhq/slipway/internal/testutil/fakegoogle"
	"github.com/slipwayhq/slipway/internal/testutil/fakests"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

// configMapRepo is a repository whose cluster path clusters/dev deploys a
// namespace and a ConfigMap holding version.
func configMapRepo(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	written(t, filepath.Join(dir, "clusters", "dev", "app.yaml"), `apiVersion: v1
kind: Namespace
metadata: {name: oidc-app}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: oidc-app}
data: {version: "`+version+`"}
`)
	return dir
}

// written writes content at path and returns the path.
func written(t *testing.T, path, content string) string {
	t.Helper()
	writeFile(t, path, content)
	return path
}

// withEnv is a step's environment: the runner's token endpoint and more.
func withEnv(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// assertOnlyMasked fails when a token appears in the output other than in
// the ::add-mask:: line that hides it in the log.
func assertOnlyMasked(t *testing.T, r cliResult, tokens []string) {
	t.Helper()
	if len(tokens) == 0 {
		t.Fatal("no token was minted")
	}
	for _, tok := range tokens {
		if strings.Contains(r.out, tok) {
			t.Errorf("a token is on standard output")
		}
		for _, line := range strings.Split(r.err, "\n") {
			if strings.Contains(line, tok) && line != "::add-mask::"+tok {
				t.Errorf("a token is printed unmasked on standard error")
			}
		}
	}
}

// A workflow step running the CLI (not the container action) with
// --auth github-oidc deploys with no credential anywhere: the kubeconfig
// names only the cluster, the token comes from the runner
// (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN) and is resolved by the same
// auth.RESTConfig the action calls. The cluster may also be named with
// --server and --certificate-authority (a file, as kubectl's flag); a job
// of another environment is authenticated and forbidden, nothing changes.
func TestCLIGitHubOIDCApply(t *testing.T) {
	iss := oidcissuer.New(t)
	authn, err := auth.AuthenticationConfiguration(auth.TrustOptions{IssuerURL: iss.URL, CertificateAuthority: iss.CAPEM(), Repositories: []string{"acme/fleet"}})
	if err != nil {
		t.Fatal(err)
	}
	c := testcluster.ForTest(t, testcluster.Options{Nodes: -1, AuthenticationConfig: string(authn)})
	ctx := t.Context()
	user := auth.GitHubUsername("", "acme/fleet", "prod")
	if err := c.BindUser(ctx, "github-prod", user, "cluster-admin"); err != nil {
		t.Fatal(err)
	}
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	runner := iss.NewRunner(t, prod, 10*time.Minute)
	content := oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig)
	kubeconfig := written(t, filepath.Join(t.TempDir(), "kubeconfig"), content)
	waitForIssuer(t, content, runner)
	version := func() string {
		got, _ := c.Kubectl(ctx, "get", "configmap", "settings", "-n", "oidc-app", "-o", "jsonpath={.data.version}")
		return got
	}
	step := withEnv(runner.Env(), map[string]string{"GITHUB_ACTIONS": "true"})

	r := runCLI(t, step, "apply", "--repo", configMapRepo(t, "1"), "--kubeconfig", kubeconfig, "--auth", "github-oidc", "--cache-dir", t.TempDir())
	if r.code != 0 || version() != "1" {
		t.Fatalf("apply with a kubeconfig without credentials: exit %d, version %q\n%s\n%s", r.code, version(), r.out, r.err)
	}
	if !strings.Contains(r.err, "as "+user) {
		t.Errorf("stderr does not say who the token authenticated as:\n%s", r.err)
	}
	assertOnlyMasked(t, r, runner.Minted())

	raw, err := clientcmd.Load([]byte(content))
	if err != nil {
		t.Fatal(err)
	}
	cl := raw.Clusters[raw.Contexts[raw.CurrentContext].Cluster]
	caFile := written(t, filepath.Join(t.TempDir(), "ca.crt"), string(cl.CertificateAuthorityData))
	server := []string{"--auth", "github-oidc", "--server", cl.Server, "--certificate-authority", caFile, "--cache-dir", t.TempDir()}
	// Outside Actions nothing is printed for the runner to mask.
	r = runCLI(t, runner.Env(), append([]string{"apply", "--repo", configMapRepo(t, "2")}, server...)...)
	if r.code != 0 || version() != "2" {
		t.Fatalf("apply with --server and --certificate-authority: exit %d, version %q\n%s\n%s", r.code, version(), r.out, r.err)
	}
	for _, tok := range runner.Minted() {
		if strings.Contains(r.out+r.err, tok) {
			t.Error("a token is printed outside GitHub Actions")
		}
	}
	if r := runCLI(t, runner.Env(), append([]string{"status", "--path", "clusters/dev"}, server...)...); r.code != 0 || !strings.Contains(r.out, "clusters/dev") {
		t.Errorf("status with --auth github-oidc: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	runner.SetClaims(oidcissuer.Claims{Repository: "acme/fleet", Environment: "staging", Ref: prod.Ref})
	r = runCLI(t, runner.Env(), append([]string{"apply", "--repo", configMapRepo(t, "3")}, server...)...)
	if r.code == 0 || version() != "2" || !strings.Contains(r.out+r.err, "forbidden") {
		t.Errorf("staging job: exit %d, version %q\n%s\n%s", r.code, version(), r.out, r.err)
	}

	// The mode's point is that no credential exists: one in the
	// kubeconfig is refused before anything is sent.
	r = runCLI(t, runner.Env(), "status", "--kubeconfig", c.Kubeconfig, "--auth", "github-oidc")
	if r.code == 0 || !strings.Contains(r.err, "no credential") {
		t.Errorf("a kubeconfig with a credential: exit %d\n%s", r.code, r.err)
	}
	// Without `permissions: id-token: write` the runner offers no token.
	r = runCLI(t, nil, "status", "--kubeconfig", kubeconfig, "--auth", "github-oidc")
	if r.code == 0 || !strings.Contains(r.err, "id-token: write") {
		t.Errorf("no token endpoint: exit %d\n%s", r.code, r.err)
	}
}

// waitForIssuer waits until the API server has fetched the issuer's keys,
// which it does in the background after it starts.
func waitForIssuer(t *testing.T, kubeconfig string, runner *oidcissuer.Runner) {
	t.Helper()
	env := runner.Env()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		_, err := auth.RESTConfig(t.Context(), auth.Options{Mode: auth.ModeGitHubOIDC, Kubeconfig: cluster.KubeconfigOptions{Content: kubeconfig}, Getenv: func(k string) string { return env[k] }})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server never accepted the issuer's tokens: %v", err)
		}
	}
}

// --auth eks from a workflow step: the job's OIDC token is exchanged at
// (fake) STS, reached and trusted through the AWS tools' own variables,
// for the role's credentials; the presigned token is verified by a
// webhook authenticator calling STS, as EKS does. No aws CLI, no exec
// plugin, no secret.
func TestCLIEKSApply(t *testing.T) {
	const role = "arn:aws:iam::" + fakests.Account + ":role/slipway-deployer"
	iss := oidcissuer.New(t)
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	runner := iss.NewRunner(t, prod, 10*time.Minute)
	sts := fakests.NewSTS(t, "eu-west-1", role, iss.Verify, prod.Subject())
	webhook := fakests.NewAuthenticator(t, sts, "prod-cluster")
	c := testcluster.ForWebhookAuth(t, webhook.ConfigFile(t), role, "cluster-admin")
	ctx := t.Context()
	kubeconfig := written(t, filepath.Join(t.TempDir(), "kubeconfig"), oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig))
	bundle := written(t, filepath.Join(t.TempDir(), "sts-ca.pem"), string(sts.CAPEM()))
	step := withEnv(runner.Env(), map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "AWS_ENDPOINT_URL_STS": sts.URL, "AWS_CA_BUNDLE": bundle})
	args := []string{"--kubeconfig", kubeconfig, "--auth", "eks", "--role-arn", role, "--aws-region", "eu-west-1", "--cluster-name", "prod-cluster", "--cache-dir", t.TempDir()}

	r := runCLI(t, step, append([]string{"apply", "--repo", configMapRepo(t, "1")}, args...)...)
	got, _ := c.Kubectl(ctx, "get", "configmap", "settings", "-n", "oidc-app", "-o", "jsonpath={.data.version}")
	if r.code != 0 || got != "1" {
		t.Fatalf("apply with --auth eks: exit %d, version %q\n%s\n%s", r.code, got, r.out, r.err)
	}
	if !strings.Contains(r.err, "as "+role) {
		t.Errorf("stderr does not name the role:\n%s", r.err)
	}
	if sts.Calls("AssumeRoleWithWebIdentity") == 0 {
		t.Error("the role was never assumed at STS")
	}
	assertOnlyMasked(t, r, runner.Minted())

	runner.SetClaims(oidcissuer.Claims{Repository: prod.Repository, Environment: "staging", Ref: prod.Ref})
	r = runCLI(t, step, append([]string{"diff", "--live", "--repo", configMapRepo(t, "2")}, args...)...)
	if r.code == 0 || !strings.Contains(r.err, "AccessDenied") {
		t.Errorf("staging job: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// The EKS settings are checked before any request.
	r = runCLI(t, step, "status", "--kubeconfig", kubeconfig, "--auth", "eks", "--role-arn", role)
	if r.code == 0 || !strings.Contains(r.err, "aws-region") {
		t.Errorf("no region: exit %d\n%s", r.code, r.err)
	}
}

// Flags that cannot name one cluster are usage errors, before any
// connection.
func TestAuthFlagsUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--auth", "ldap"}, "unknown auth"},
		{[]string{"status", "--role-arn", "arn:aws:iam::123456789012:role/x"}, "are for --auth eks, not kubeconfig"},
		{[]string{"status", "--auth", "eks", "--tenant-id", "t"}, "are for --auth aks, not eks"},
		{[]string{"status", "--server", "https://127.0.0.1:1"}, "with auth kubeconfig"},
		{[]string{"status", "--auth", "github-oidc", "--server", "https://127.0.0.1:1", "--certificate-authority", "/nonexistent/ca.crt"}, "neither a PEM certificate nor a readable file"},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s", tc.args, r.code, exitUsage, tc.want, r.err)
		}
	}
}

// --auth gke and --auth aks from a workflow step, against the fake Google
// and Entra ID (reached and trusted through gcloud's and the Azure tools'
// own variables) and a local API server authenticating through the
// matching webhook, as GKE and AKS do: the prod job deploys, a staging job
// is refused by the cloud and changes nothing.
func TestCLIGKEAndAKSApply(t *testing.T) {
	const (
		provider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/actions"
		sa       = "slipway-deployer@acme-prod.iam.gserviceaccount.com"
		tenant   = "11111111-2222-3333-4444-555555555555"
		clientID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	)
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	for _, tc := range []struct {
		mode string
		// cloud starts the fake for the issuer and returns its webhook
		// configuration, the identity it authenticates, the flags and the
		// environment that reach it, and its refusal of another job.
		cloud func(t *testing.T, iss *oidcissuer.Issuer) (webhook, user string, flags []string, env map[string]string, refusal string)
	}{
		{"gke", func(t *testing.T, iss *oidcissuer.Issuer) (string, string, []string, map[string]string, string) {
			g := fakegoogle.New(t, provider, prod.Repository, sa, iss.Verify, prod.Subject())
			ca := written(t, filepath.Join(t.TempDir(), "google-ca.pem"), string(g.CAPEM()))
			return g.WebhookConfigFile(t), sa, []string{"--workload-identity-provider", provider, "--service-account", sa},
				map[string]string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_STS": g.URL, "CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS": g.URL, "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE": ca},
				"PERMISSION_DENIED"
		}},
		{"aks", func(t *testing.T, iss *oidcissuer.Issuer) (string, string, []string, map[string]string, string) {
			e := fakeentra.New(t, tenant, clientID, iss.Verify, prod.Subject())
			ca := written(t, filepath.Join(t.TempDir(), "entra-ca.pem"), string(e.CAPEM()))
			return e.WebhookConfigFile(t), clientID, []string{"--tenant-id", tenant, "--client-id", clientID},
				map[string]string{"AZURE_AUTHORITY_HOST": e.URL, "REQUESTS_CA_BUNDLE": ca},
				"AADSTS70021"
		}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			iss := oidcissuer.New(t)
			runner := iss.NewRunner(t, prod, 10*time.Minute)
			webhook, user, flags, env, refusal := tc.cloud(t, iss)
			c := testcluster.ForWebhookAuth(t, webhook, user, "cluster-admin")
			ctx := t.Context()
			kubeconfig := written(t, filepath.Join(t.TempDir(), "kubeconfig"), oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig))
			step := withEnv(runner.Env(), env, map[string]string{"GITHUB_ACTIONS": "true"})
			args := append([]string{"--kubeconfig", kubeconfig, "--auth", tc.mode, "--cache-dir", t.TempDir()}, flags...)
			version := func() string {
				got, _ := c.Kubectl(ctx, "get", "configmap", "settings", "-n", "oidc-app", "-o", "jsonpath={.data.version}")
				return got
			}

			r := runCLI(t, step, append([]string{"apply", "--repo", configMapRepo(t, "1")}, args...)...)
			if r.code != 0 || version() != "1" {
				t.Fatalf("apply with --auth %s: exit %d, version %q\n%s\n%s", tc.mode, r.code, version(), r.out, r.err)
			}
			if !strings.Contains(r.err, "as "+user) {
				t.Errorf("stderr does not name %s:\n%s", user, r.err)
			}
			assertOnlyMasked(t, r, runner.Minted())

			runner.SetClaims(oidcissuer.Claims{Repository: prod.Repository, Environment: "staging", Ref: prod.Ref})
			r = runCLI(t, step, append([]string{"apply", "--repo", configMapRepo(t, "2")}, args...)...)
			if r.code == 0 || version() != "1" || !strings.Contains(r.err, refusal) {
				t.Errorf("staging job: exit %d, version %q, want %s\n%s\n%s", r.code, version(), refusal, r.out, r.err)
			}
		})
	}
}
