package auth_test

import (
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

// oidcCluster starts a local cluster whose API server trusts iss for
// tokens of acme/fleet (audience "slipway"), and returns its kubeconfig
// with the admin credential removed.
func oidcCluster(t *testing.T, iss *oidcissuer.Issuer) (*testcluster.Cluster, string) {
	t.Helper()
	cfg, err := auth.AuthenticationConfiguration(auth.TrustOptions{IssuerURL: iss.URL, CertificateAuthority: iss.CAPEM(), Repositories: []string{"acme/fleet"}})
	if err != nil {
		t.Fatal(err)
	}
	c := testcluster.ForTest(t, testcluster.Options{Nodes: -1, AuthenticationConfig: string(cfg)})
	return c, oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig)
}

// A job of acme/fleet in environment prod, with RBAC bound to exactly that
// identity, reads ConfigMaps with no secret at all; the same repository in
// another environment is authenticated but forbidden; another repository
// is not authenticated. Tokens that expire during the work are replaced.
func TestGitHubOIDCAgainstAPIServer(t *testing.T) {
	iss := oidcissuer.New(t)
	c, kubeconfig := oidcCluster(t, iss)
	ctx := t.Context()
	user := auth.GitHubUsername("", "acme/fleet", "prod")
	if err := c.Apply(ctx, `apiVersion: v1
kind: Namespace
metadata: {name: oidc}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: oidc}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: oidc}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "`+user+`"}]
`); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitCan(ctx, user, "list", "configmaps", "oidc"); err != nil {
		t.Fatal(err)
	}

	// Tokens live 4 s and are replaced 2 s before expiry, so a few seconds
	// of requests cross several tokens.
	runner := iss.NewRunner(t, oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}, 4*time.Second)
	list := func(claims oidcissuer.Claims) error {
		runner.SetClaims(claims)
		cfg, err := auth.RESTConfig(ctx, auth.Options{Mode: auth.ModeGitHubOIDC, Kubeconfig: cluster.KubeconfigOptions{Content: kubeconfig}, Getenv: getenv(runner.Env()), RefreshBefore: 2 * time.Second})
		if err != nil {
			return err
		}
		_, err = kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps("oidc").List(ctx, metav1.ListOptions{})
		return err
	}
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	// The API server fetches the issuer's keys in the background after it
	// starts; until then every token is unauthorized.
	deadline := time.Now().Add(30 * time.Second)
	err := list(prod)
	for apierrors.IsUnauthorized(err) && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		err = list(prod)
	}
	if err != nil {
		t.Fatalf("prod job: %v", err)
	}

	if err := list(oidcissuer.Claims{Repository: "acme/fleet", Environment: "staging", Ref: "refs/heads/main"}); !apierrors.IsForbidden(err) {
		t.Errorf("staging job: want 403, got %v", err)
	}
	var refused *auth.NotAcceptedError
	if err := list(oidcissuer.Claims{Repository: "evil/fleet", Environment: "prod", Ref: "refs/heads/main"}); !errors.As(err, &refused) || !apierrors.IsUnauthorized(err) {
		t.Errorf("another repository: want 401 when connecting, got %v", err)
	}

	runner.SetClaims(prod)
	before := runner.Requests()
	cfg, err := auth.RESTConfig(ctx, auth.Options{Mode: auth.ModeGitHubOIDC, Kubeconfig: cluster.KubeconfigOptions{Content: kubeconfig}, Getenv: getenv(runner.Env()), RefreshBefore: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	for end := time.Now().Add(7 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if _, err := cs.CoreV1().ConfigMaps("oidc").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("request %s into the run: %v", time.Since(end.Add(-7*time.Second)).Round(time.Millisecond), err)
		}
	}
	if n := runner.Requests() - before; n < 3 {
		t.Errorf("%d tokens over 7 s of 4-second tokens: not refreshed", n)
	}
}
