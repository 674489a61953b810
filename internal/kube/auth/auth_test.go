package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Without `permissions: id-token: write` the runner sets neither variable:
// the error says which permission is missing, before anything else runs.
func TestGitHubOIDCNeedsIDTokenPermission(t *testing.T) {
	_, err := auth.RESTConfig(t.Context(), auth.Options{
		Mode: auth.ModeGitHubOIDC, Server: "https://127.0.0.1:6443", CertificateAuthority: testCA(t),
		Getenv: getenv(nil),
	})
	if !errors.Is(err, auth.ErrNoIDTokenEndpoint) || !strings.Contains(err.Error(), "permissions: id-token: write") {
		t.Fatalf("err = %v", err)
	}
}

// The token request keeps the runner's own query, adds the audience and
// sends the request token; the token's exp becomes its expiry.
func TestGitHubIDTokenRequest(t *testing.T) {
	iss := oidcissuer.New(t)
	runner := iss.NewRunner(t, oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod"}, 10*time.Minute)
	src, err := auth.NewGitHubIDTokenSource(t.Context(), getenv(runner.Env()), "my-cluster", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if until := time.Until(tok.Expiry); until < 9*time.Minute || until > 10*time.Minute {
		t.Errorf("expiry in %s, want about 10m", until)
	}
	if runner.Requests() != 1 || tok.AccessToken != runner.Minted()[0] {
		t.Errorf("requests %d", runner.Requests())
	}

	env := runner.Env()
	env[auth.EnvIDTokenRequestToken] = "wrong"
	src, _ = auth.NewGitHubIDTokenSource(t.Context(), getenv(env), "my-cluster", nil)
	_, err = src.Token()
	var te *auth.IDTokenError
	if !errors.As(err, &te) || te.Status != 401 {
		t.Fatalf("wrong request token: %v", err)
	}
}

// A kubeconfig that still holds a credential, a plain-HTTP server and an
// unverified certificate are refused: the token goes only to an API
// server whose identity is checked, and alone.
func TestGitHubOIDCRefusesUnsafeClusters(t *testing.T) {
	iss := oidcissuer.New(t)
	env := getenv(iss.NewRunner(t, oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod"}, time.Hour).Env())
	withToken := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: static-secret}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	cases := map[string]auth.Options{
		"credential": {Kubeconfig: cluster.KubeconfigOptions{Content: withToken}},
		"http":       {Server: "http://127.0.0.1:8080", CertificateAuthority: testCA(t)},
		"insecure":   {Kubeconfig: cluster.KubeconfigOptions{Content: strings.Replace(strings.Replace(withToken, "{token: static-secret}", "{}", 1), `server: "https://127.0.0.1:6443"`, `server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true`, 1)}},
		"no CA":      {Server: "https://127.0.0.1:6443"},
	}
	for name, o := range cases {
		o.Mode, o.Getenv = auth.ModeGitHubOIDC, env
		if _, err := auth.RESTConfig(context.Background(), o); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "credential" && !errors.Is(err, auth.ErrCredentialInKubeconfig) {
			t.Errorf("credential: %v", err)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]auth.Mode{"": auth.ModeKubeconfig, "GitHub-OIDC": auth.ModeGitHubOIDC, "kubeconfig": auth.ModeKubeconfig} {
		if got, err := auth.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := auth.ParseMode("openshift"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

// The configuration refuses to trust GitHub's issuer for no repository
// (any repository can get a token for any audience) and quotes names into
// the CEL expression.
func TestAuthenticationConfiguration(t *testing.T) {
	if _, err := auth.AuthenticationConfiguration(auth.TrustOptions{}); err == nil {
		t.Error("no repository accepted")
	}
	if _, err := auth.AuthenticationConfiguration(auth.TrustOptions{Repositories: []string{`acme/x" || true || "`}}); err == nil {
		t.Error("injection accepted")
	}
	out, err := auth.AuthenticationConfiguration(auth.TrustOptions{Repositories: []string{"acme/fleet", "acme/other"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"apiVersion: apiserver.config.k8s.io/v1", "url: " + auth.GitHubIssuer, "- slipway", `claims.repository in ["acme/fleet", "acme/other"]`, "claim: sub", "prefix: 'github:'"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}

func testCA(t *testing.T) string {
	return oidcissuer.New(t).CAPEM()
}
