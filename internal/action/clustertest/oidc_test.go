package clustertest

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

// A workflow with auth: github-oidc deploys with no cluster secret at all:
// the action asks the (fake) runner for an ID token and the API server,
// trusting the (local) issuer for acme/fleet, maps it to the user bound to
// cluster-admin for environment prod. The cluster is named by a kubeconfig
// without credentials, or by the server and certificate-authority inputs.
// A job of another environment or another repository deploys nothing.
func TestGitHubOIDCDeploys(t *testing.T) {
	if local == nil {
		t.Skip(skipReason)
	}
	iss := oidcissuer.New(t)
	authn, err := auth.AuthenticationConfiguration(auth.TrustOptions{IssuerURL: iss.URL, CertificateAuthority: iss.CAPEM(), Repositories: []string{actiontest.Owner + "/" + actiontest.Repo}})
	if err != nil {
		t.Fatal(err)
	}
	c := testcluster.ForTest(t, testcluster.Options{Nodes: -1, AuthenticationConfig: string(authn)})
	ctx := context.Background()
	user := auth.GitHubUsername("", actiontest.Owner+"/"+actiontest.Repo, "prod")
	if err := c.BindUser(ctx, "github-prod", user, "cluster-admin"); err != nil {
		t.Fatal(err)
	}
	kubeconfig := oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig)
	raw, err := clientcmd.Load([]byte(kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	cluster := raw.Clusters[raw.Contexts[raw.CurrentContext].Cluster]

	srv := githubtest.New(actiontest.Owner, actiontest.Repo)
	t.Cleanup(srv.Close)
	srv.AddToken(actiontest.Token, githubtest.WriteAll)
	prod := oidcissuer.Claims{Repository: actiontest.Owner + "/" + actiontest.Repo, Environment: "prod", Ref: "refs/heads/main"}
	runner := iss.NewRunner(t, prod, 10*time.Minute)
	waitForIssuerKeys(t, runner, kubeconfig)

	f := actiontest.NewFleet(t)
	push := func(before, after string, inputs map[string]string) (*actiontest.Runner, github.Conclusion) {
		t.Helper()
		r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": before, "after": after})
		r.Env["GITHUB_SHA"] = after
		r.Env["INPUT_PATH"] = "clusters/a"
		r.Env["INPUT_AUTH"] = "github-oidc"
		for k, v := range runner.Env() {
			r.Env[k] = v
		}
		for k, v := range inputs {
			r.Env[k] = v
		}
		out := r.Run()
		actiontest.AssertNoSecrets(t, srv, r, append(runner.Minted(), runner.RequestToken, actiontest.SecretValue)...)
		return r, out.Result
	}
	version := func() string {
		got, _ := c.Kubectl(ctx, "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
		return got
	}

	first := f.Commit("first")
	r, res := push(github.ZeroSHA, first, map[string]string{"INPUT_KUBECONFIG": kubeconfig})
	if res != github.ConclusionSuccess || version() != "1" {
		t.Fatalf("kubeconfig without credentials: %s, version %q\n%s", res, version(), r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "as "+user) {
		t.Errorf("the log does not say who the token authenticated as:\n%s", r.Log.String())
	}

	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "2")})
	second := f.Commit("bump")
	serverInputs := map[string]string{"INPUT_SERVER": cluster.Server, "INPUT_CERTIFICATE-AUTHORITY": string(cluster.CertificateAuthorityData)}
	if r, res := push(first, second, serverInputs); res != github.ConclusionSuccess || version() != "2" {
		t.Fatalf("server and certificate-authority: %s, version %q\n%s", res, version(), r.Log.String())
	}

	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "3")})
	third := f.Commit("bump again")
	for name, claims := range map[string]oidcissuer.Claims{
		"staging":          {Repository: prod.Repository, Environment: "staging", Ref: prod.Ref},
		"other repository": {Repository: "evil/fleet", Environment: "prod", Ref: prod.Ref},
	} {
		runner.SetClaims(claims)
		r, res := push(second, third, serverInputs)
		if res != github.ConclusionFailure || version() != "2" {
			t.Errorf("%s: %s, version %q\n%s", name, res, version(), r.Log.String())
		}
		if want := map[string]string{"staging": "forbidden", "other repository": "does not accept this job's GitHub OIDC token"}[name]; !strings.Contains(r.File("summary")+r.Log.String(), want) {
			t.Errorf("%s: the run does not say %q\n%s", name, want, r.Log.String())
		}
	}
}

// waitForIssuerKeys waits until the API server has fetched the issuer's
// keys (it does so in the background after it starts).
func waitForIssuerKeys(t *testing.T, runner *oidcissuer.Runner, kubeconfig string) {
	t.Helper()
	getenv := func(k string) string { return runner.Env()[k] }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		cfg, err := auth.RESTConfig(t.Context(), auth.Options{Mode: auth.ModeGitHubOIDC, Kubeconfig: deployKubeconfig(kubeconfig), Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		if err = ping(t.Context(), cfg); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server never accepted the issuer's tokens: %v", err)
		}
	}
}

func deployKubeconfig(content string) cluster.KubeconfigOptions {
	return cluster.KubeconfigOptions{Content: content}
}

func ping(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	return err
}
