package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Variables the clouds' own tools read for another endpoint (a VPC
// endpoint, Private Service Connect, a sovereign cloud) and for extra CA
// roots (a TLS-inspecting proxy). slipway honours the same ones, read
// through Options.Getenv, in RESTConfig: the action and the CLI resolve
// them in one place.
const (
	// EnvAWSEndpointSTS and EnvAWSEndpoint are the AWS SDKs' and CLI's.
	EnvAWSEndpointSTS = "AWS_ENDPOINT_URL_STS"
	EnvAWSEndpoint    = "AWS_ENDPOINT_URL"
	// EnvAWSCABundle is a PEM file of extra roots (AWS SDKs and CLI).
	EnvAWSCABundle = "AWS_CA_BUNDLE"
	// EnvGoogleSTSEndpoint and EnvGoogleIAMCredentialsEndpoint are
	// gcloud's api_endpoint_overrides/sts and /iamcredentials: base URLs,
	// the API version is appended.
	EnvGoogleSTSEndpoint            = "CLOUDSDK_API_ENDPOINT_OVERRIDES_STS"
	EnvGoogleIAMCredentialsEndpoint = "CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS"
	// EnvGoogleCABundle is gcloud's core/custom_ca_certs_file.
	EnvGoogleCABundle = "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"
	// EnvAzureAuthorityHost is azidentity's (and the Azure CLI's) Entra
	// ID host for another cloud.
	EnvAzureAuthorityHost = "AZURE_AUTHORITY_HOST"
	// EnvAzureCABundle is the PEM file the Azure CLI trusts besides the
	// system roots (it reaches Entra ID through Python's requests).
	EnvAzureCABundle = "REQUESTS_CA_BUNDLE"
)

// ErrServerWithKubeconfigAuth is a server address given with auth
// kubeconfig, where the kubeconfig names the cluster and its credential.
var ErrServerWithKubeconfigAuth = errors.New("server is for auth github-oidc, eks, gke or aks; with auth kubeconfig the kubeconfig names the cluster")

// fromEnvironment fills what o leaves empty from the environment the
// clouds' tools read, and refuses a cluster named for the wrong mode.
func fromEnvironment(o Options) (Options, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if o.Server != "" && (o.Mode == ModeKubeconfig || o.Mode == "") {
		return o, ErrServerWithKubeconfigAuth
	}
	var err error
	switch o.Mode {
	case ModeEKS:
		if o.EKS.SessionName == "" {
			// One session per workflow run, so that CloudTrail names it.
			if run := strings.TrimSpace(getenv("GITHUB_RUN_ID")); run != "" {
				o.EKS.SessionName = "slipway-" + run
			}
		}
		o.EKS, err = EKSFromEnv(o.EKS, getenv)
	case ModeGKE:
		o.GKE, err = gkeFromEnv(o.GKE, getenv)
	case ModeAKS:
		o.AKS, err = aksFromEnv(o.AKS, getenv)
	}
	return o, err
}

func gkeFromEnv(g GKEOptions, getenv func(string) string) (GKEOptions, error) {
	if v := strings.TrimSpace(getenv(EnvGoogleSTSEndpoint)); g.STSURL == "" && v != "" {
		g.STSURL = strings.TrimSuffix(v, "/") + "/v1/token"
	}
	if v := strings.TrimSpace(getenv(EnvGoogleIAMCredentialsEndpoint)); g.IAMCredentialsURL == "" && v != "" {
		g.IAMCredentialsURL = v
	}
	if g.HTTPClient != nil {
		return g, nil
	}
	var err error
	g.HTTPClient, err = clientFromCABundle(EnvGoogleCABundle, getenv)
	return g, err
}

func aksFromEnv(a AKSOptions, getenv func(string) string) (AKSOptions, error) {
	if a.AuthorityHost == "" {
		a.AuthorityHost = strings.TrimSpace(getenv(EnvAzureAuthorityHost))
	}
	if a.HTTPClient != nil {
		return a, nil
	}
	var err error
	a.HTTPClient, err = clientFromCABundle(EnvAzureCABundle, getenv)
	return a, err
}

// clientFromCABundle is a client trusting the system roots and the PEM
// file the variable names; nil when it names none.
func clientFromCABundle(variable string, getenv func(string) string) (*http.Client, error) {
	f := strings.TrimSpace(getenv(variable))
	if f == "" {
		return nil, nil
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	return clientTrusting(data, variable)
}

// clientTrusting is a client trusting the system roots and the PEM
// certificates in extra (read from the variable named source).
func clientTrusting(extra []byte, source string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(extra) {
		return nil, fmt.Errorf("%s holds no PEM certificate", source)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: idTokenTimeout}, nil
}
