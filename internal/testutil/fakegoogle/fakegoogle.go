// Package fakegoogle is test infrastructure for auth gke: fakes of Google's
// STS token exchange (workload identity federation) and of the IAM
// credentials API's generateAccessToken, enforcing their documented request
// shapes, and a webhook token authenticator for kube-apiserver that accepts
// the access tokens they issued, as GKE maps a Google identity to its
// email. Import it only from _test.go files.
package fakegoogle

import (
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testutil/tokenwebhook"
)

// Verifier checks a subject token for the audience and returns its claims.
type Verifier func(token, audience string) (map[string]any, error)

// Google is a running fake of sts.googleapis.com and
// iamcredentials.googleapis.com on one TLS loopback server.
type Google struct {
	URL string
	// Provider is the workload identity provider's resource name;
	// Repository the provider's attribute condition
	// (assertion.repository == Repository).
	Provider, Repository string
	// ServiceAccount may be impersonated by federated principals whose
	// subject is in Subjects (roles/iam.workloadIdentityUser).
	ServiceAccount string
	Subjects       []string

	srv    *httptest.Server
	verify Verifier
	mu     sync.Mutex
	fed    map[string]string // federated token -> subject
	access map[string]string // access token -> service account
}

// New starts the fake, stopped with the test.
func New(t testing.TB, provider, repository, serviceAccount string, verify Verifier, subjects ...string) *Google {
	t.Helper()
	g := &Google{Provider: provider, Repository: repository, ServiceAccount: serviceAccount, Subjects: subjects, verify: verify, fed: map[string]string{}, access: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/token", g.exchange)
	mux.HandleFunc("POST /v1/projects/-/serviceAccounts/{sa}", g.generateAccessToken)
	g.srv = httptest.NewTLSServer(mux)
	g.URL = g.srv.URL
	t.Cleanup(g.srv.Close)
	return g
}

// Client trusts the fake's certificate.
func (g *Google) Client() *http.Client { return g.srv.Client() }

// exchange is STS's token exchange (RFC 8693 as Google documents it).
func (g *Google) exchange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type")
		return
	case f.Get("audience") != "//iam.googleapis.com/"+g.Provider:
		oauthError(w, http.StatusBadRequest, "invalid_target", "audience must be the provider's full resource name")
		return
	case f.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
		oauthError(w, http.StatusBadRequest, "invalid_request", "requested_token_type")
		return
	case f.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt":
		oauthError(w, http.StatusBadRequest, "invalid_request", "subject_token_type")
		return
	case !strings.Contains(f.Get("scope"), "https://www.googleapis.com/auth/cloud-platform"):
		oauthError(w, http.StatusBadRequest, "invalid_scope", "scope")
		return
	}
	claims, err := g.verify(f.Get("subject_token"), "https://iam.googleapis.com/"+g.Provider)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	if claims["repository"] != g.Repository {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "The given credential is rejected by the attribute condition.")
		return
	}
	tok := "fed-" + rand.Text()
	g.mu.Lock()
	g.fed[tok], _ = claims["sub"].(string)
	g.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
}

// CAPEM is the fake's certificate (its own CA), for CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE (gcloud's core/custom_ca_certs_file).
func (g *Google) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.srv.Certificate().Raw})
}

// generateAccessToken is IAM credentials' projects.serviceAccounts.generateAccessToken.
func (g *Google) generateAccessToken(w http.ResponseWriter, r *http.Request) {
	sa, ok := strings.CutSuffix(r.PathValue("sa"), ":generateAccessToken")
	if !ok {
		googleError(w, http.StatusNotFound, "NOT_FOUND")
		return
	}
	g.mu.Lock()
	sub, known := g.fed[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	g.mu.Unlock()
	var body struct {
		Scope    []string `json:"scope"`
		Lifetime string   `json:"lifetime"`
	}
	switch {
	case !known:
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED")
		return
	case json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Scope) == 0:
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT")
		return
	case sa != g.ServiceAccount || !slices.Contains(g.Subjects, sub):
		googleError(w, http.StatusForbidden, "PERMISSION_DENIED")
		return
	}
	tok := "ya29.fake-" + rand.Text()
	g.mu.Lock()
	g.access[tok] = sa
	g.mu.Unlock()
	writeJSON(w, map[string]any{"accessToken": tok, "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
}

// Authenticate maps an access token this fake issued to its service
// account's email, as GKE does.
func (g *Google) Authenticate(token string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sa, ok := g.access[token]
	return sa, ok
}

// WebhookConfigFile starts a webhook token authenticator over TLS that
// accepts the issued access tokens, and returns the kubeconfig-format file
// for --authentication-token-webhook-config-file.
func (g *Google) WebhookConfigFile(t testing.TB) string {
	t.Helper()
	return tokenwebhook.ConfigFile(t, "gke-authenticator", func(token string) (string, error) {
		if user, ok := g.Authenticate(token); ok {
			return user, nil
		}
		return "", errors.New("not a token this fake issued")
	})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func googleError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "status": code, "message": code}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
