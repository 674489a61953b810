package auth

import (
	"context"
	"fmt"
	"net/http"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"
)

// AKS with Entra ID accepts Entra tokens for the AKS server application,
// the same well-known application in every tenant; GitHub's token is the
// client assertion of an app registration (or user-assigned managed
// identity) with a federated credential for this repository.
const (
	AKSServerScope     = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
	DefaultAKSAudience = "api://AzureADTokenExchange"
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// AKSOptions name the Entra ID application for auth aks.
type AKSOptions struct {
	// TenantID and ClientID (GUIDs) of the app registration or managed
	// identity whose federated credential trusts GitHub's issuer.
	TenantID, ClientID string
	// AuthorityHost overrides Entra ID's (tests, sovereign clouds);
	// "" is the public cloud's.
	AuthorityHost string
	// HTTPClient makes the calls to Entra ID; nil is azcore's default.
	HTTPClient *http.Client
}

func (a AKSOptions) check() error {
	if !guidRE.MatchString(a.TenantID) || !guidRE.MatchString(a.ClientID) {
		return fmt.Errorf("auth aks needs tenant-id and client-id as GUIDs (got %q, %q)", a.TenantID, a.ClientID)
	}
	return nil
}

// aksConfig gets an Entra ID token for the AKS server application with
// the job's GitHub OIDC token as client assertion (azidentity's
// ClientAssertionCredential, which caches and renews it).
func aksConfig(ctx context.Context, o Options) (*rest.Config, error) {
	cfg, gh, aud, err := federatedStart(ctx, o, o.AKS.check(), DefaultAKSAudience)
	if err != nil {
		return nil, err
	}
	opts := &azidentity.ClientAssertionCredentialOptions{}
	if o.AKS.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: o.AKS.AuthorityHost}
		// Instance discovery asks the public cloud about the authority.
		opts.DisableInstanceDiscovery = true
	}
	if o.AKS.HTTPClient != nil {
		opts.Transport = o.AKS.HTTPClient
	}
	assertion := subjectSupplier{src: gh, notify: o.OnToken}
	cred, err := azidentity.NewClientAssertionCredential(o.AKS.TenantID, o.AKS.ClientID, func(ctx context.Context) (string, error) {
		return assertion.SubjectToken(ctx, externalSupplierOptions)
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("auth aks: %w", err)
	}
	var src oauth2.TokenSource = &entraTokenSource{ctx: ctx, cred: cred}
	if o.OnToken != nil {
		src = notifyingSource{base: src, notify: o.OnToken}
	}
	cached := newCachedTokenSource(src, o.RefreshBefore)
	if _, err := cached.Token(); err != nil {
		return nil, fmt.Errorf("auth aks: getting an Entra ID token with the GitHub OIDC token: %w", err)
	}
	return authenticate(ctx, cfg, cached, o, ModeAKS, aud)
}

// entraTokenSource asks the credential for an AKS token.
type entraTokenSource struct {
	ctx  context.Context
	cred azcore.TokenCredential
}

func (s *entraTokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.cred.GetToken(s.ctx, policy.TokenRequestOptions{Scopes: []string{AKSServerScope}})
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok.Token, TokenType: "Bearer", Expiry: tok.ExpiresOn}, nil
}
