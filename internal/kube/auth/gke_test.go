package auth_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/fakegoogle"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

const (
	gkeProvider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/actions"
	gkeSA       = "slipway-deployer@acme-prod.iam.gserviceaccount.com"
)

type gkeWorld struct {
	runner *oidcissuer.Runner
	google *fakegoogle.Google
}

// newGKEWorld: the provider accepts acme/fleet; the service account lets
// the prod environment's principal impersonate it.
func newGKEWorld(t *testing.T) *gkeWorld {
	iss := oidcissuer.New(t)
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	return &gkeWorld{
		runner: iss.NewRunner(t, prod, 10*time.Minute),
		google: fakegoogle.New(t, gkeProvider, "acme/fleet", gkeSA, iss.Verify, prod.Subject()),
	}
}

func (w *gkeWorld) options(server, ca string) auth.Options {
	return auth.Options{
		Mode: auth.ModeGKE, Server: server, CertificateAuthority: ca, Getenv: getenv(w.runner.Env()),
		GKE: auth.GKEOptions{Provider: gkeProvider, ServiceAccount: gkeSA, STSURL: w.google.URL + "/v1/token", IAMCredentialsURL: w.google.URL, HTTPClient: w.google.Client()},
	}
}

// The GKE chain without a cluster: the runner's token (audience
// https://iam.googleapis.com/<provider>) is exchanged at STS, the
// federated token for the service account's access token, which an API
// server verifying it like GKE maps to the account's email. Another
// environment may not impersonate the account; another repository is
// refused by the provider's attribute condition.
func TestGKETokenExchange(t *testing.T) {
	w := newGKEWorld(t)
	api := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		user, ok := w.google.Authenticate(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if !ok {
			http.Error(rw, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(authenticationv1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{Kind: "SelfSubjectReview", APIVersion: "authentication.k8s.io/v1"}, Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: user}}})
	}))
	defer api.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}))

	var user string
	o := w.options(api.URL, ca)
	o.OnAuthenticated = func(u string) { user = u }
	if _, err := auth.RESTConfig(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if user != gkeSA {
		t.Errorf("authenticated as %q, want %s", user, gkeSA)
	}
	w.runner.SetClaims(oidcissuer.Claims{Repository: "acme/fleet", Environment: "staging", Ref: "refs/heads/main"})
	if _, err := auth.RESTConfig(t.Context(), w.options(api.URL, ca)); err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
		t.Errorf("staging: %v, want PERMISSION_DENIED from generateAccessToken", err)
	}
	w.runner.SetClaims(oidcissuer.Claims{Repository: "evil/fleet", Environment: "prod", Ref: "refs/heads/main"})
	if _, err := auth.RESTConfig(t.Context(), w.options(api.URL, ca)); err == nil || !strings.Contains(err.Error(), "attribute condition") {
		t.Errorf("another repository: %v, want the attribute condition's refusal", err)
	}
}

// On a real API server with a webhook authenticator accepting the fake
// Google's access tokens, the service account bound by RBAC reads and may
// not write.
func TestGKEAgainstAPIServer(t *testing.T) {
	w := newGKEWorld(t)
	c := testcluster.ForWebhookAuth(t, w.google.WebhookConfigFile(t), gkeSA, "view")
	ctx := t.Context()
	o := w.options("", "")
	o.Kubeconfig.Content = oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig)
	cfg, err := auth.RESTConfig(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().ConfigMaps("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("listing as the service account: %v", err)
	}
	if err := cs.CoreV1().ConfigMaps("kube-system").Delete(ctx, "kube-root-ca.crt", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("deleting as view: %v, want 403", err)
	}
}
