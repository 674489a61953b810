package auth

import (
	"k8s.io/client-go/rest"

	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Environment variables the Actions runner sets in a job that has
// `permissions: id-token: write`.
const (
	EnvIDTokenRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvIDTokenRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// idTokenTimeout bounds one request to the runner's token endpoint.
const idTokenTimeout = 30 * time.Second

// maxIDTokenResponse bounds the runner's answer; a JWT is a few KiB.
const maxIDTokenResponse = 64 << 10

// ErrNoIDTokenEndpoint is returned when the runner offers no OIDC token:
// the job lacks `permissions: id-token: write` (or this is not a GitHub
// Actions job, or a pull request from a fork, which never gets one).
var ErrNoIDTokenEndpoint = errors.New("the runner offers no OIDC token (" + EnvIDTokenRequestURL + " and " + EnvIDTokenRequestToken + " are unset): the job needs `permissions: id-token: write`")

// IDTokenError is a failed request to the runner's token endpoint.
type IDTokenError struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	Err    error
}

func (e *IDTokenError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("requesting a GitHub OIDC token: HTTP %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("requesting a GitHub OIDC token: %v", e.Err)
}

func (e *IDTokenError) Unwrap() error { return e.Err }

// GitHubIDTokenSource requests ID tokens for one audience from the Actions
// runner. Each Token call makes a request; wrap it in a cache.
type GitHubIDTokenSource struct {
	ctx          context.Context
	endpoint     *url.URL
	requestToken string
	audience     string
	client       *http.Client
}

// NewGitHubIDTokenSource reads the runner's endpoint and request token with
// getenv. client nil means a client with a 30-second timeout.
func NewGitHubIDTokenSource(ctx context.Context, getenv func(string) string, audience string, client *http.Client) (*GitHubIDTokenSource, error) {
	raw, reqToken := strings.TrimSpace(getenv(EnvIDTokenRequestURL)), strings.TrimSpace(getenv(EnvIDTokenRequestToken))
	if raw == "" || reqToken == "" {
		return nil, ErrNoIDTokenEndpoint
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s is not an http(s) URL", EnvIDTokenRequestURL)
	}
	if client == nil {
		client = &http.Client{Timeout: idTokenTimeout}
	}
	return &GitHubIDTokenSource{ctx: ctx, endpoint: u, requestToken: reqToken, audience: audience, client: client}, nil
}

// Token requests a fresh ID token. Its expiry is the token's exp claim.
func (s *GitHubIDTokenSource) Token() (*oauth2.Token, error) {
	u := *s.endpoint
	q := u.Query()
	if s.audience != "" {
		q.Set("audience", s.audience)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &IDTokenError{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+s.requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, &IDTokenError{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIDTokenResponse))
	if err != nil {
		return nil, &IDTokenError{Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		// The body is the runner's error message, never a token.
		return nil, &IDTokenError{Status: resp.StatusCode, Err: errors.New(firstLine(string(body)))}
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Value == "" {
		return nil, &IDTokenError{Status: resp.StatusCode, Err: errors.New(`the answer is not {"value": <JWT>}`)}
	}
	exp, err := jwtExpiry(answer.Value)
	if err != nil {
		return nil, &IDTokenError{Status: resp.StatusCode, Err: err}
	}
	return &oauth2.Token{AccessToken: answer.Value, TokenType: "Bearer", Expiry: exp}, nil
}

// jwtExpiry reads the exp claim without verifying the signature: the API
// server verifies the token; slipway only needs to know when to get a new
// one.
func jwtExpiry(jwt string) (time.Time, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("the token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, errors.New("the token's payload is not base64url")
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, errors.New("the token's payload is not JSON")
	}
	secs, err := claims.Exp.Int64()
	if err != nil || secs <= 0 {
		return time.Time{}, errors.New("the token has no exp claim")
	}
	return time.Unix(secs, 0), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// federatedStart is where every cloud's exchange begins: the cloud's own
// inputs checked (checked), the cluster's address and CA without a
// credential, and the job's GitHub OIDC token for the audience the cloud
// expects (o.Audience, else defaultAudience), with that audience.
func federatedStart(ctx context.Context, o Options, checked error, defaultAudience string) (*rest.Config, *GitHubIDTokenSource, string, error) {
	if checked != nil {
		return nil, nil, "", checked
	}
	cfg, err := clusterOnly(o)
	if err != nil {
		return nil, nil, "", err
	}
	aud := o.Audience
	if aud == "" {
		aud = defaultAudience
	}
	gh, err := NewGitHubIDTokenSource(ctx, o.Getenv, aud, o.HTTPClient)
	if err != nil {
		return nil, nil, "", err
	}
	return cfg, gh, aud, nil
}
