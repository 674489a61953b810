package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// Mode says where the credential for the cluster comes from.
type Mode string

// Modes of the action's `auth` input and the CLI's --auth flag.
const (
	// ModeKubeconfig uses the kubeconfig as kubectl does: its token,
	// client certificate or exec plugin.
	ModeKubeconfig Mode = "kubeconfig"
	// ModeGitHubOIDC sends the job's GitHub OIDC token to an API server
	// that trusts GitHub's issuer (structured authentication
	// configuration); no secret is stored anywhere.
	ModeGitHubOIDC Mode = "github-oidc"
	// ModeEKS exchanges the job's GitHub OIDC token for an IAM role's
	// credentials and sends EKS's presigned-STS token; nothing runs (no
	// aws CLI) and no secret is stored.
	ModeEKS Mode = "eks"
	// ModeGKE exchanges the job's GitHub OIDC token through Google's
	// workload identity federation for an access token GKE accepts.
	ModeGKE Mode = "gke"
	// ModeAKS uses the job's GitHub OIDC token as the client assertion of
	// an Entra ID application with a federated credential, for a token of
	// the AKS server application.
	ModeAKS Mode = "aks"
)

// Modes lists the modes slipway implements.
var Modes = []Mode{ModeKubeconfig, ModeGitHubOIDC, ModeEKS, ModeGKE, ModeAKS}

// DefaultAudience is the audience requested for github-oidc when none is
// given. The API server's AuthenticationConfiguration must list the same.
const DefaultAudience = "slipway"

// ParseMode parses an `auth` value; "" is ModeKubeconfig.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if m == "" {
		return ModeKubeconfig, nil
	}
	for _, known := range Modes {
		if m == known {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown auth %q: want kubeconfig, github-oidc, eks, gke or aks", s)
}

// Options say how to reach and authenticate to one cluster.
type Options struct {
	Mode Mode
	// Kubeconfig is the kubeconfig (content or path, and context). With
	// ModeGitHubOIDC only its cluster (address, CA) is used, and it must
	// hold no credential.
	Kubeconfig cluster.KubeconfigOptions
	// Server and CertificateAuthority (PEM, or base64 of PEM as in a
	// kubeconfig's certificate-authority-data) name the cluster for
	// ModeGitHubOIDC instead of a kubeconfig.
	Server, CertificateAuthority string
	// Audience of the OIDC token; "" is DefaultAudience
	// (DefaultEKSAudience for ModeEKS).
	Audience string
	// Getenv reads the runner's environment.
	Getenv func(string) string
	// HTTPClient makes the requests to the runner's token endpoint; nil
	// is a client with a 30-second timeout. The API server is reached with the
	// rest.Config's own transport.
	HTTPClient *http.Client
	// RefreshBefore is how long before expiry a token is replaced; 0 is
	// DefaultRefreshBefore.
	RefreshBefore time.Duration
	// OnToken, if set, sees each new token before it is used, so that a
	// front end can mask it in logs.
	OnToken func(token string)
	// EKS names the role and the cluster for ModeEKS.
	EKS EKSOptions
	// GKE names the provider and service account for ModeGKE.
	GKE GKEOptions
	// AKS names the Entra ID application for ModeAKS.
	AKS AKSOptions
	// OnAuthenticated, if set, is told the username the API server gave
	// the token (ModeGitHubOIDC), for the log.
	OnAuthenticated func(username string)
}

// ErrCredentialInKubeconfig is returned for ModeGitHubOIDC when the
// kubeconfig's user holds a credential: two would be sent, and the point
// of the mode is that no secret exists.
var ErrCredentialInKubeconfig = errors.New("with auth github-oidc the kubeconfig must hold only the cluster's address and CA, no credential")

// RESTConfig returns a rest.Config for the cluster. For ModeGitHubOIDC it
// requests the first token now, so that a missing permission is reported
// before any work starts; ctx bounds every later token request too.
//
// Settings o leaves empty are read from the variables the clouds' own
// tools honour (see EnvAWSEndpointSTS and the others), with o.Getenv.
func RESTConfig(ctx context.Context, o Options) (*rest.Config, error) {
	o, err := fromEnvironment(o)
	if err != nil {
		return nil, err
	}
	switch o.Mode {
	case ModeKubeconfig, "":
		return cluster.RESTConfig(o.Kubeconfig, o.Getenv)
	case ModeGitHubOIDC:
		return githubOIDCConfig(ctx, o)
	case ModeEKS:
		return eksConfig(ctx, o)
	case ModeGKE:
		return gkeConfig(ctx, o)
	case ModeAKS:
		return aksConfig(ctx, o)
	}
	return nil, fmt.Errorf("auth %q is not implemented", o.Mode)
}

func githubOIDCConfig(ctx context.Context, o Options) (*rest.Config, error) {
	cfg, err := clusterOnly(o)
	if err != nil {
		return nil, err
	}
	aud := o.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	src, err := NewGitHubIDTokenSource(ctx, o.Getenv, aud, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	var base oauth2.TokenSource = src
	if o.OnToken != nil {
		base = notifyingSource{base: src, notify: o.OnToken}
	}
	cached := newCachedTokenSource(base, o.RefreshBefore)
	if _, err := cached.Token(); err != nil {
		return nil, err
	}
	return authenticate(ctx, cfg, cached, o, ModeGitHubOIDC, aud)
}

// authenticate makes cfg send src's tokens (renewed before expiry, and
// after a 401) and checks with the API server that they are accepted,
// telling o.OnAuthenticated who they make us.
func authenticate(ctx context.Context, cfg *rest.Config, src transport.ResettableTokenSource, o Options, mode Mode, aud string) (*rest.Config, error) {
	cfg.Wrap(transport.ResettableTokenSourceWrapTransport(src))
	cfg.UserAgent = "slipway"
	// As cluster.RESTConfig: no client-side rate limit.
	cfg.QPS = -1
	user, err := whoAmI(ctx, cfg, mode, aud)
	if err != nil {
		return nil, err
	}
	if user != "" && o.OnAuthenticated != nil {
		o.OnAuthenticated(user)
	}
	return cfg, nil
}

// clusterOnly returns the rest.Config of the cluster, without credentials,
// from the Server input or the kubeconfig's selected cluster. A bearer
// token is only sent over verified TLS.
func clusterOnly(o Options) (*rest.Config, error) {
	var cfg *rest.Config
	if o.Server != "" {
		ca, err := decodeCA(o.CertificateAuthority)
		if err != nil {
			return nil, err
		}
		cfg = &rest.Config{Host: o.Server, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	} else {
		var err error
		if cfg, err = kubeconfigCluster(o.Kubeconfig, o.Getenv); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(cfg.Host)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("cluster address %q: auth %s needs an https:// API server address", cfg.Host, o.Mode)
	}
	if cfg.Insecure {
		return nil, fmt.Errorf("auth %s does not send a token to an API server whose certificate is not verified (insecure-skip-tls-verify)", o.Mode)
	}
	return cfg, nil
}

// kubeconfigCluster loads the selected context's cluster and refuses a
// user entry that carries any credential.
func kubeconfigCluster(k cluster.KubeconfigOptions, getenv func(string) string) (*rest.Config, error) {
	var raw *clientcmdapi.Config
	var err error
	if k.Content != "" {
		raw, err = clientcmd.Load([]byte(k.Content))
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = k.Path
		var c clientcmdapi.Config
		c, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
		raw = &c
	}
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	name := k.Context
	if name == "" {
		name = raw.CurrentContext
	}
	ctx, ok := raw.Contexts[name]
	if !ok {
		return nil, fmt.Errorf("kubeconfig: no context %q", name)
	}
	if user := raw.AuthInfos[ctx.AuthInfo]; user != nil && hasCredential(user) {
		return nil, fmt.Errorf("kubeconfig user %q: %w", ctx.AuthInfo, ErrCredentialInKubeconfig)
	}
	cl, ok := raw.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("kubeconfig: context %q names no known cluster %q", name, ctx.Cluster)
	}
	cfg := &rest.Config{
		Host: cl.Server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: cl.CertificateAuthorityData, CAFile: cl.CertificateAuthority,
			ServerName: cl.TLSServerName, Insecure: cl.InsecureSkipTLSVerify,
		},
	}
	if cl.ProxyURL != "" {
		p, err := url.Parse(cl.ProxyURL)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig cluster %q: proxy-url: %w", ctx.Cluster, err)
		}
		cfg.Proxy = http.ProxyURL(p)
	}
	return cfg, nil
}

func hasCredential(a *clientcmdapi.AuthInfo) bool {
	return a.Token != "" || a.TokenFile != "" || a.Password != "" || a.Username != "" ||
		len(a.ClientCertificateData) > 0 || a.ClientCertificate != "" ||
		len(a.ClientKeyData) > 0 || a.ClientKey != "" || a.Exec != nil || a.AuthProvider != nil
}

// decodeCA accepts PEM, or base64 of PEM as kubeconfigs and most
// documentation hold it.
func decodeCA(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("a server address needs its certificate-authority (PEM)")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		return []byte(s + "\n"), nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(data)), "-----BEGIN") {
		return nil, errors.New("certificate-authority is neither PEM nor base64 of PEM")
	}
	return data, nil
}

// notifyingSource tells the front end about each new token.
type notifyingSource struct {
	base   oauth2.TokenSource
	notify func(string)
}

func (n notifyingSource) Token() (*oauth2.Token, error) {
	tok, err := n.base.Token()
	if err == nil {
		n.notify(tok.AccessToken)
	}
	return tok, err
}

// NotAcceptedError is the API server refusing the token (401): for
// github-oidc it does not trust the issuer, expects another audience, or
// refuses the token's claims (another repository); for eks the role is not
// mapped to a Kubernetes identity.
type NotAcceptedError struct {
	Mode     Mode
	Audience string
	Err      error
}

func (e *NotAcceptedError) Error() string {
	if e.Mode == ModeAKS {
		return fmt.Sprintf("the AKS cluster does not accept the Entra ID token: give the application a role on the cluster (Azure RBAC for Kubernetes, or Kubernetes RBAC on its object ID): %v", e.Err)
	}
	if e.Mode == ModeGKE {
		return fmt.Sprintf("the GKE cluster does not accept the access token: grant the service account (or the federated principal) access to the cluster (roles/container.developer, or RBAC on its email): %v", e.Err)
	}
	if e.Mode == ModeEKS {
		return fmt.Sprintf("the EKS cluster does not accept the role's token: map the IAM role to a Kubernetes identity (an access entry, or aws-auth): %v", e.Err)
	}
	return fmt.Sprintf("the API server does not accept this job's GitHub OIDC token (audience %q): its AuthenticationConfiguration must trust issuer %s with that audience and this repository (see `slipway bootstrap --auth github-oidc`): %v", e.Audience, GitHubIssuer, e.Err)
}

func (e *NotAcceptedError) Unwrap() error { return e.Err }

// whoAmI asks the API server who the token makes us (SelfSubjectReview,
// which every authenticated user may create). A refusal is reported
// before any work starts, with what to check; a server too old for the
// API, or forbidding it, is not an error here.
func whoAmI(ctx context.Context, cfg *rest.Config, mode Mode, audience string) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("connecting: %w", err)
	}
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case apierrors.IsUnauthorized(err):
		return "", &NotAcceptedError{Mode: mode, Audience: audience, Err: err}
	case err != nil:
		return "", nil
	}
	return r.Status.UserInfo.Username, nil
}
