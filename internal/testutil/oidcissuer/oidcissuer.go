// Package oidcissuer is test infrastructure: a local OpenID Connect issuer
// over TLS on loopback that mints GitHub Actions-shaped ID tokens, and a
// fake of the runner's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) that
// hands them out. A real kube-apiserver can trust the issuer through an
// AuthenticationConfiguration. Import it only from _test.go files.
package oidcissuer

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the GitHub-specific claims of a token.
type Claims struct {
	Repository  string // OWNER/REPO
	Environment string // "" for a job without an environment
	Ref         string // refs/heads/main
}

// Subject is GitHub's sub claim for these claims: with an environment,
// repo:OWNER/REPO:environment:NAME, else repo:OWNER/REPO:ref:REF.
func (c Claims) Subject() string {
	if c.Environment != "" {
		return "repo:" + c.Repository + ":environment:" + c.Environment
	}
	return "repo:" + c.Repository + ":ref:" + c.Ref
}

// Issuer is a running OIDC issuer.
type Issuer struct {
	// URL is the issuer (iss claim), https://127.0.0.1:PORT.
	URL    string
	srv    *httptest.Server
	signer jose.Signer
	jwks   jose.JSONWebKeySet
}

// New starts an issuer, stopped when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const kid = "test-key"
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{signer: signer, jwks: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/.well-known/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public", "pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "repository", "environment", "ref"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, iss.jwks) })
	iss.srv = httptest.NewTLSServer(mux)
	iss.URL = iss.srv.URL
	t.Cleanup(iss.srv.Close)
	return iss
}

// CAPEM is the PEM of the certificate the issuer serves (self-signed; it is
// its own CA), for the AuthenticationConfiguration's certificateAuthority.
func (i *Issuer) CAPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.srv.Certificate().Raw}))
}

// Mint signs a token for audience, valid for ttl.
func (i *Issuer) Mint(c Claims, audience string, ttl time.Duration) (string, error) {
	now := time.Now()
	std := jwt.Claims{
		Issuer: i.URL, Subject: c.Subject(), Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
		Expiry: jwt.NewNumericDate(now.Add(ttl)),
	}
	owner, _, _ := strings.Cut(c.Repository, "/")
	gh := map[string]any{
		"repository": c.Repository, "repository_owner": owner, "ref": c.Ref,
		"job_workflow_ref": c.Repository + "/.github/workflows/deploy.yaml@" + c.Ref,
	}
	if c.Environment != "" {
		gh["environment"] = c.Environment
	}
	return jwt.Signed(i.signer).Claims(std).Claims(gh).Serialize()
}

// Runner is a fake of the Actions runner's ID token endpoint: it checks the
// request token and mints a token for the requested audience.
type Runner struct {
	// URL is the value for ACTIONS_ID_TOKEN_REQUEST_URL (with a query, as
	// the runner's has).
	URL string
	// RequestToken is the value for ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	RequestToken string

	mu       sync.Mutex
	claims   Claims
	ttl      time.Duration
	requests int
	minted   []string
}

// NewRunner starts a token endpoint minting tokens with claims valid for
// ttl, stopped when the test ends.
func (i *Issuer) NewRunner(t testing.TB, c Claims, ttl time.Duration) *Runner {
	t.Helper()
	r := &Runner{RequestToken: "runner-request-token-" + rand.Text(), claims: c, ttl: ttl}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet || req.Header.Get("Authorization") != "Bearer "+r.RequestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		if req.URL.Query().Get("api-version") == "" {
			http.Error(w, "the request lost the runner's own query", http.StatusBadRequest)
			return
		}
		aud := req.URL.Query().Get("audience")
		if aud == "" {
			aud = "https://github.com/" + strings.Split(c.Repository, "/")[0]
		}
		r.mu.Lock()
		claims, ttl := r.claims, r.ttl
		r.mu.Unlock()
		tok, err := i.Mint(claims, aud, ttl)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		r.mu.Lock()
		r.requests++
		r.minted = append(r.minted, tok)
		r.mu.Unlock()
		writeJSON(w, map[string]string{"value": tok})
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/_apis/token?api-version=2.0"
	return r
}

// Env returns the two environment variables the runner sets.
func (r *Runner) Env() map[string]string {
	return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": r.URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": r.RequestToken}
}

// Requests returns how many tokens were handed out.
func (r *Runner) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Minted returns the tokens handed out, for checks that none leaked.
func (r *Runner) Minted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.minted...)
}

// SetClaims changes the claims of the next tokens.
func (r *Runner) SetClaims(c Claims) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.claims = c
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Verify checks a token's signature, issuer, audience and expiry, as a
// relying party (AWS STS, the API server) does, and returns its claims.
func (i *Issuer) Verify(token, audience string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(i.jwks.Keys[0].Key, &std, &all); err != nil {
		return nil, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: i.URL, AnyAudience: jwt.Audience{audience}, Time: time.Now()}, 0); err != nil {
		return nil, err
	}
	return all, nil
}
