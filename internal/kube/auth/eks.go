package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"
)

// EKS token format, as aws-iam-authenticator (and `aws eks get-token`)
// build it: a presigned STS GetCallerIdentity URL whose signature covers
// the x-k8s-aws-id header naming the cluster, base64url without padding,
// behind a version prefix. EKS accepts the URL for 15 minutes after
// signing; the token is renewed after 14, as the authenticator's client
// does.
const (
	EKSTokenPrefix     = "k8s-aws-v1."
	EKSClusterIDHeader = "x-k8s-aws-id"
	// DefaultEKSAudience is the audience AWS expects in a GitHub OIDC
	// token exchanged with AssumeRoleWithWebIdentity.
	DefaultEKSAudience = "sts.amazonaws.com"
	eksTokenLifetime   = 14 * time.Minute
	eksPresignExpires  = "60"
)

// EKSOptions name the IAM role and the cluster for auth eks.
type EKSOptions struct {
	// RoleARN is the role the GitHub OIDC token is exchanged for; its
	// trust policy must allow token.actions.githubusercontent.com for this
	// repository and environment, and the cluster must map it (access
	// entry or aws-auth) to a Kubernetes identity.
	RoleARN string
	// Region of the cluster (the STS endpoint signed for).
	Region string
	// ClusterName is the EKS cluster's name (x-k8s-aws-id).
	ClusterName string
	// SessionName of the assumed role; "" is "slipway".
	SessionName string
	// STSEndpoint overrides the regional STS endpoint (tests, VPC
	// endpoints).
	STSEndpoint string
	// HTTPClient makes the STS call; nil is the SDK's default, trusting
	// CABundle too when set.
	HTTPClient *http.Client
	// CABundle is extra PEM roots for STS (AWS_CA_BUNDLE's content).
	CABundle []byte
}

// EKSFromEnv fills the endpoint and CA bundle from the variables the AWS
// SDKs and CLI honour: AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL) and
// AWS_CA_BUNDLE (a file).
func EKSFromEnv(e EKSOptions, getenv func(string) string) (EKSOptions, error) {
	if e.STSEndpoint == "" {
		e.STSEndpoint = getenv(EnvAWSEndpointSTS)
	}
	if e.STSEndpoint == "" {
		e.STSEndpoint = getenv(EnvAWSEndpoint)
	}
	if f := getenv(EnvAWSCABundle); f != "" && e.CABundle == nil {
		data, err := os.ReadFile(f)
		if err != nil {
			return e, fmt.Errorf("%s: %w", EnvAWSCABundle, err)
		}
		e.CABundle = data
	}
	return e, nil
}

func (e EKSOptions) httpClient() (*http.Client, error) {
	if e.HTTPClient != nil || len(e.CABundle) == 0 {
		return e.HTTPClient, nil
	}
	return clientTrusting(e.CABundle, EnvAWSCABundle)
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func (e EKSOptions) check() error {
	switch {
	case e.RoleARN == "":
		return errors.New("auth eks needs the role-arn of the IAM role to assume")
	case e.Region == "":
		return errors.New("auth eks needs the cluster's aws-region")
	case e.ClusterName == "":
		return errors.New("auth eks needs the cluster-name")
	case e.SessionName != "" && !sessionNameRE.MatchString(e.SessionName):
		return fmt.Errorf("role session name %q: want 2-64 of letters, digits and +=,.@_-", e.SessionName)
	}
	return nil
}

// eksConfig exchanges the job's GitHub OIDC token for the role's
// temporary credentials (STS AssumeRoleWithWebIdentity, refreshed by the
// SDK's credentials cache) and presigns GetCallerIdentity for the cluster.
func eksConfig(ctx context.Context, o Options) (*rest.Config, error) {
	cfg, gh, aud, err := federatedStart(ctx, o, o.EKS.check(), DefaultEKSAudience)
	if err != nil {
		return nil, err
	}
	client, err := o.EKS.httpClient()
	if err != nil {
		return nil, err
	}
	stsOpts := func(so *sts.Options) {
		so.Region = o.EKS.Region
		if o.EKS.STSEndpoint != "" {
			so.BaseEndpoint = aws.String(o.EKS.STSEndpoint)
		}
		if client != nil {
			so.HTTPClient = client
		}
	}
	session := o.EKS.SessionName
	if session == "" {
		session = "slipway"
	}
	provider := stscreds.NewWebIdentityRoleProvider(sts.New(sts.Options{}, stsOpts), o.EKS.RoleARN, idTokenRetriever{src: gh, notify: o.OnToken},
		func(w *stscreds.WebIdentityRoleOptions) { w.RoleSessionName = session })
	creds := aws.NewCredentialsCache(provider)
	src := &eksTokenSource{
		ctx:     ctx,
		cluster: o.EKS.ClusterName,
		presign: sts.NewPresignClient(sts.New(sts.Options{Credentials: creds}, stsOpts)),
		notify:  o.OnToken,
	}
	cached := newCachedTokenSource(src, o.RefreshBefore)
	if _, err := cached.Token(); err != nil {
		return nil, err
	}
	return authenticate(ctx, cfg, cached, o, ModeEKS, aud)
}

// idTokenRetriever hands the SDK the job's GitHub OIDC token.
type idTokenRetriever struct {
	src    oauth2.TokenSource
	notify func(string)
}

func (r idTokenRetriever) GetIdentityToken() ([]byte, error) {
	tok, err := r.src.Token()
	if err != nil {
		return nil, err
	}
	if r.notify != nil {
		r.notify(tok.AccessToken)
	}
	return []byte(tok.AccessToken), nil
}

// eksTokenSource presigns GetCallerIdentity for the cluster.
type eksTokenSource struct {
	ctx     context.Context
	cluster string
	presign *sts.PresignClient
	notify  func(string)
}

func (s *eksTokenSource) Token() (*oauth2.Token, error) {
	now := time.Now()
	req, err := s.presign.PresignGetCallerIdentity(s.ctx, &sts.GetCallerIdentityInput{}, func(po *sts.PresignOptions) {
		po.Presigner = clusterHeaderPresigner{next: po.Presigner, cluster: s.cluster}
	})
	if err != nil {
		return nil, fmt.Errorf("auth eks: presigning GetCallerIdentity for cluster %s: %w", s.cluster, err)
	}
	tok := EKSTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
	if s.notify != nil {
		s.notify(tok)
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: now.Add(eksTokenLifetime)}, nil
}

// clusterHeaderPresigner adds the cluster header to the signed headers
// and a 60-second X-Amz-Expires, as aws-iam-authenticator does: the
// signature then binds the token to this one cluster.
type clusterHeaderPresigner struct {
	next    sts.HTTPPresignerV4
	cluster string
}

func (p clusterHeaderPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	r.Header.Add(EKSClusterIDHeader, p.cluster)
	q := r.URL.Query()
	q.Set("X-Amz-Expires", eksPresignExpires)
	r.URL.RawQuery = q.Encode()
	return p.next.PresignHTTP(ctx, creds, r, payloadHash, service, region, signingTime, optFns...)
}
