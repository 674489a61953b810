package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// GitHub Actions' OIDC issuer and the username prefix slipway's
// AuthenticationConfiguration gives its identities, so that they cannot be
// mistaken for another authenticator's users.
const (
	GitHubIssuer          = "https://token.actions.githubusercontent.com"
	DefaultUsernamePrefix = "github:"
)

// TrustOptions describe what an API server trusts from GitHub's issuer.
type TrustOptions struct {
	// IssuerURL is the issuer; "" is GitHubIssuer.
	IssuerURL string
	// CertificateAuthority is a PEM bundle for an issuer whose certificate
	// is not publicly trusted (a test issuer); "" for GitHub.
	CertificateAuthority string
	// Audience the tokens must carry; "" is DefaultAudience.
	Audience string
	// Repositories (OWNER/REPO) whose tokens are accepted; tokens of any
	// other repository are refused at authentication (401), before RBAC.
	Repositories []string
	// UsernamePrefix; "" is DefaultUsernamePrefix.
	UsernamePrefix string
}

func (o TrustOptions) withDefaults() TrustOptions {
	if o.IssuerURL == "" {
		o.IssuerURL = GitHubIssuer
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.UsernamePrefix == "" {
		o.UsernamePrefix = DefaultUsernamePrefix
	}
	return o
}

// GitHubUsername is the Kubernetes username of a job of repository running
// in environment, under the configuration AuthenticationConfiguration
// writes: the prefix, then GitHub's sub claim
// (repo:OWNER/REPO:environment:NAME).
func GitHubUsername(prefix, repository, environment string) string {
	if prefix == "" {
		prefix = DefaultUsernamePrefix
	}
	return prefix + "repo:" + repository + ":environment:" + environment
}

// AuthenticationConfiguration returns the YAML of an
// AuthenticationConfiguration (apiserver.config.k8s.io/v1, GA in
// Kubernetes 1.34) that trusts the issuer for the audience, accepts only
// tokens of the given repositories, and maps the sub claim to the username.
// The API server reads it with --authentication-config.
func AuthenticationConfiguration(o TrustOptions) ([]byte, error) {
	o = o.withDefaults()
	if len(o.Repositories) == 0 {
		return nil, errors.New("trusting GitHub's issuer needs at least one repository: any repository on GitHub can get a token for any audience")
	}
	quoted := make([]string, 0, len(o.Repositories))
	for _, r := range o.Repositories {
		owner, name, ok := strings.Cut(r, "/")
		if !ok || owner == "" || name == "" || strings.ContainsAny(r, "'\"\\ \n") {
			return nil, fmt.Errorf("repository %q: want OWNER/REPO", r)
		}
		quoted = append(quoted, strconv.Quote(r))
	}
	issuer := map[string]any{"url": o.IssuerURL, "audiences": []string{o.Audience}}
	if o.CertificateAuthority != "" {
		issuer["certificateAuthority"] = o.CertificateAuthority
	}
	cfg := map[string]any{
		"apiVersion": "apiserver.config.k8s.io/v1",
		"kind":       "AuthenticationConfiguration",
		"jwt": []any{map[string]any{
			"issuer": issuer,
			"claimValidationRules": []any{map[string]any{
				"expression": "claims.repository in [" + strings.Join(quoted, ", ") + "]",
				"message":    "slipway: tokens of this repository are not accepted",
			}},
			"claimMappings": map[string]any{
				"username": map[string]any{"claim": "sub", "prefix": o.UsernamePrefix},
			},
		}},
	}
	return yaml.Marshal(cfg)
}
