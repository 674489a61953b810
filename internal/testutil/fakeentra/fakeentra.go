// Package fakeentra is test infrastructure for auth aks: a fake Microsoft
// Entra ID token endpoint (v2.0 client credentials with a federated client
// assertion) enforcing the documented request shape, and a webhook token
// authenticator for kube-apiserver that accepts the tokens it issued, as
// AKS does for the AKS server application. Import it only from _test.go
// files.
package fakeentra

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil/tokenwebhook"
)

// AKSScope is the AKS server application's scope.
const AKSScope = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"

// Verifier checks an assertion for the audience and returns its claims.
type Verifier func(token, audience string) (map[string]any, error)

// Entra is a running fake of one tenant's endpoints.
type Entra struct {
	// URL is the authority host (cloud.Configuration's
	// ActiveDirectoryAuthorityHost).
	URL              string
	Tenant, ClientID string
	// Subjects are the federated credential's subjects.
	Subjects []string
	srv      *httptest.Server
	verify   Verifier
	mu       sync.Mutex
	issued   map[string]string // token -> client id
}

// New starts the fake over TLS on loopback, stopped with the test.
func New(t testing.TB, tenant, clientID string, verify Verifier, subjects ...string) *Entra {
	t.Helper()
	e := &Entra{Tenant: tenant, ClientID: clientID, Subjects: subjects, verify: verify, issued: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.discovery)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	e.srv = httptest.NewTLSServer(mux)
	e.URL = e.srv.URL + "/"
	t.Cleanup(e.srv.Close)
	return e
}

// Client trusts the fake's certificate.
func (e *Entra) Client() *http.Client { return e.srv.Client() }

func (e *Entra) discovery(w http.ResponseWriter, r *http.Request) {
	base := e.srv.URL + "/" + r.PathValue("tenant")
	writeJSON(w, map[string]any{
		"issuer":                 base + "/v2.0",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	})
}

// CAPEM is the fake's certificate (its own CA), for REQUESTS_CA_BUNDLE (what the Azure CLI trusts).
func (e *Entra) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
}

// token: client_credentials with client_id, scope, client_assertion_type
// jwt-bearer and the GitHub token as client_assertion (audience
// api://AzureADTokenExchange, subject one of the federated credential's).
func (e *Entra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		aadError(w, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	switch {
	case r.PathValue("tenant") != e.Tenant:
		aadError(w, "invalid_tenant", "AADSTS90002: Tenant not found")
		return
	case f.Get("grant_type") != "client_credentials":
		aadError(w, "unsupported_grant_type", "grant_type")
		return
	case f.Get("client_id") != e.ClientID:
		aadError(w, "unauthorized_client", "AADSTS700016: Application not found")
		return
	case !slices.Contains(strings.Fields(f.Get("scope")), AKSScope):
		aadError(w, "invalid_scope", "scope must be the AKS server application's")
		return
	case f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		aadError(w, "invalid_request", "client_assertion_type")
		return
	}
	claims, err := e.verify(f.Get("client_assertion"), "api://AzureADTokenExchange")
	if err != nil {
		aadError(w, "invalid_client", "AADSTS700024: "+err.Error())
		return
	}
	if sub, _ := claims["sub"].(string); !slices.Contains(e.Subjects, sub) {
		aadError(w, "invalid_client", "AADSTS70021: No matching federated identity record found for presented assertion.")
		return
	}
	tok := "eyFAKE." + base64.RawURLEncoding.EncodeToString([]byte(rand.Text()))
	e.mu.Lock()
	e.issued[tok] = e.ClientID
	e.mu.Unlock()
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// Authenticate maps an issued token to its application's client ID.
func (e *Entra) Authenticate(token string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := e.issued[token]
	return id, ok
}

// WebhookConfigFile starts a webhook token authenticator accepting the
// issued tokens and returns the file for
// --authentication-token-webhook-config-file.
func (e *Entra) WebhookConfigFile(t testing.TB) string {
	t.Helper()
	return tokenwebhook.ConfigFile(t, "aks-authenticator", func(token string) (string, error) {
		if user, ok := e.Authenticate(token); ok {
			return user, nil
		}
		return "", errors.New("not a token this fake issued")
	})
}

func aadError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
