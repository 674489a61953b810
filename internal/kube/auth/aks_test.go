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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil/fakeentra"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

const (
	aksTenant = "11111111-2222-3333-4444-555555555555"
	aksClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

type aksWorld struct {
	runner *oidcissuer.Runner
	entra  *fakeentra.Entra
}

func newAKSWorld(t *testing.T) *aksWorld {
	iss := oidcissuer.New(t)
	prod := oidcissuer.Claims{Repository: "acme/fleet", Environment: "prod", Ref: "refs/heads/main"}
	return &aksWorld{runner: iss.NewRunner(t, prod, 10*time.Minute), entra: fakeentra.New(t, aksTenant, aksClient, iss.Verify, prod.Subject())}
}

func (w *aksWorld) options(server, ca string) auth.Options {
	return auth.Options{
		Mode: auth.ModeAKS, Server: server, CertificateAuthority: ca, Getenv: getenv(w.runner.Env()),
		AKS: auth.AKSOptions{TenantID: aksTenant, ClientID: aksClient, AuthorityHost: w.entra.URL, HTTPClient: w.entra.Client()},
	}
}

// The AKS chain without a cluster: the runner's token (audience
// api://AzureADTokenExchange) is the client assertion for an Entra token of
// the AKS server application; another environment has no federated
// credential and is refused.
func TestAKSTokenExchange(t *testing.T) {
	w := newAKSWorld(t)
	api := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		user, ok := w.entra.Authenticate(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
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
	if user != aksClient {
		t.Errorf("authenticated as %q, want %s", user, aksClient)
	}
	w.runner.SetClaims(oidcissuer.Claims{Repository: "acme/fleet", Environment: "staging", Ref: "refs/heads/main"})
	if _, err := auth.RESTConfig(t.Context(), w.options(api.URL, ca)); err == nil || !strings.Contains(err.Error(), "AADSTS70021") {
		t.Errorf("staging: %v, want no matching federated identity", err)
	}
}

// On a real API server with a webhook authenticator accepting the fake
// Entra's tokens, the application bound by RBAC reads.
func TestAKSAgainstAPIServer(t *testing.T) {
	w := newAKSWorld(t)
	c := testcluster.ForWebhookAuth(t, w.entra.WebhookConfigFile(t), aksClient, "view")
	ctx := t.Context()
	o := w.options("", "")
	o.Kubeconfig.Content = oidcissuer.KubeconfigWithoutCredentials(t, c.Kubeconfig)
	cfg, err := auth.RESTConfig(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("listing as the application: %v", err)
	}
}
