package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/externalaccount"
	"k8s.io/client-go/rest"
)

// Google endpoints of workload identity federation: STS token exchange,
// and the IAM credentials API that turns the federated token into a
// service account's access token.
const (
	GoogleSTSURL     = "https://sts.googleapis.com/v1/token"
	GoogleIAMCredURL = "https://iamcredentials.googleapis.com"
	googleJWTType    = "urn:ietf:params:oauth:token-type:jwt"
	googleScope      = "https://www.googleapis.com/auth/cloud-platform"
)

var providerRE = regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$`)

// GKEOptions name the workload identity provider and service account for
// auth gke.
type GKEOptions struct {
	// Provider is the workload identity pool provider's resource name,
	// projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER.
	Provider string
	// ServiceAccount is the email of the service account to impersonate;
	// "" uses the federated identity directly (it then needs IAM on the
	// cluster itself).
	ServiceAccount string
	// STSURL and IAMCredentialsURL override Google's endpoints (tests,
	// Private Service Connect).
	STSURL, IAMCredentialsURL string
	// HTTPClient makes the calls to Google; nil is a default client.
	HTTPClient *http.Client
}

func (g GKEOptions) check() error {
	switch {
	case !providerRE.MatchString(g.Provider):
		return fmt.Errorf("workload-identity-provider %q: want projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER", g.Provider)
	case g.ServiceAccount != "" && !strings.Contains(g.ServiceAccount, "@"):
		return fmt.Errorf("service-account %q: want the service account's email", g.ServiceAccount)
	}
	return nil
}

// DefaultGKEAudience is the audience google-github-actions/auth requests
// for a provider, which a provider accepts by default.
func DefaultGKEAudience(provider string) string { return "https://iam.googleapis.com/" + provider }

// gkeConfig exchanges the job's GitHub OIDC token at Google's STS
// (workload identity federation) and, with a service account, for that
// account's access token (IAM credentials generateAccessToken); the access
// token is GKE's bearer token. x/oauth2's externalaccount does both steps
// and renews the token before it expires.
func gkeConfig(ctx context.Context, o Options) (*rest.Config, error) {
	cfg, gh, aud, err := federatedStart(ctx, o, o.GKE.check(), DefaultGKEAudience(o.GKE.Provider))
	if err != nil {
		return nil, err
	}
	ea := externalaccount.Config{
		Audience:             "//iam.googleapis.com/" + o.GKE.Provider,
		SubjectTokenType:     googleJWTType,
		TokenURL:             firstNonEmpty(o.GKE.STSURL, GoogleSTSURL),
		Scopes:               []string{googleScope},
		SubjectTokenSupplier: subjectSupplier{src: gh, notify: o.OnToken},
	}
	if o.GKE.ServiceAccount != "" {
		base := strings.TrimSuffix(firstNonEmpty(o.GKE.IAMCredentialsURL, GoogleIAMCredURL), "/")
		ea.ServiceAccountImpersonationURL = base + "/v1/projects/-/serviceAccounts/" + url.PathEscape(o.GKE.ServiceAccount) + ":generateAccessToken"
	}
	client := o.GKE.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: idTokenTimeout}
	}
	// x/oauth2 reads its HTTP client from the context it is given.
	ts, err := externalaccount.NewTokenSource(context.WithValue(ctx, oauth2.HTTPClient, client), ea)
	if err != nil {
		return nil, fmt.Errorf("auth gke: %w", err)
	}
	var src oauth2.TokenSource = ts
	if o.OnToken != nil {
		src = notifyingSource{base: ts, notify: o.OnToken}
	}
	cached := newCachedTokenSource(src, o.RefreshBefore)
	if _, err := cached.Token(); err != nil {
		return nil, fmt.Errorf("auth gke: exchanging the GitHub OIDC token: %w", err)
	}
	return authenticate(ctx, cfg, cached, o, ModeGKE, aud)
}

// externalSupplierOptions are unused by subjectSupplier (GitHub's token
// is the same whatever is asked); aks calls it with them.
var externalSupplierOptions = externalaccount.SupplierOptions{SubjectTokenType: googleJWTType}

// subjectSupplier hands externalaccount (and azidentity) the job's GitHub
// OIDC token.
type subjectSupplier struct {
	src    oauth2.TokenSource
	notify func(string)
}

func (s subjectSupplier) SubjectToken(context.Context, externalaccount.SupplierOptions) (string, error) {
	tok, err := s.src.Token()
	if err != nil {
		return "", err
	}
	if s.notify != nil {
		s.notify(tok.AccessToken)
	}
	return tok.AccessToken, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
