package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// kubeFlags say how to reach the cluster and where its credential comes
// from: the kubeconfig as kubectl reads it, or the job's GitHub OIDC token
// (--auth), with the settings the action's inputs of the same names give.
type kubeFlags struct {
	kubeconfig, context string
	auth                authFlags
}

// authFlags are the action's auth inputs as flags.
type authFlags struct {
	mode, audience, server, certificateAuthority string
	roleARN, region, clusterName                 string
	provider, serviceAccount                     string
	tenantID, clientID                           string
}

// register adds the kubeconfig and the --auth flags, for every command
// that connects to the cluster it deploys to, diffs against or reads.
func (k *kubeFlags) register(cmd *cobra.Command) {
	k.registerKubeconfig(cmd)
	k.auth.register(cmd)
}

// registerKubeconfig adds only --kubeconfig and --context: bootstrap
// connects with an administrator's kubeconfig, and its own --auth says how
// the workflow it writes authenticates.
func (k *kubeFlags) registerKubeconfig(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config; $SLIPWAY_KUBECONFIG may hold the content)")
	cmd.Flags().StringVar(&k.context, "context", "", "kubeconfig context")
}

func (a *authFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&a.mode, "auth", string(auth.ModeKubeconfig), "where the cluster credential comes from: kubeconfig (its token, certificate or exec plugin), or, in a GitHub Actions job with `permissions: id-token: write`, the job's OIDC token: github-oidc (sent to an API server that trusts GitHub's issuer), eks, gke or aks (exchanged with the cloud); with those the kubeconfig holds no credential, or --server names the cluster")
	fl.StringVar(&a.audience, "audience", "", "audience of the job's OIDC token (default "+auth.DefaultAudience+"; "+auth.DefaultEKSAudience+" for eks, https://iam.googleapis.com/<provider> for gke, "+auth.DefaultAKSAudience+" for aks)")
	fl.StringVar(&a.server, "server", "", "with --auth other than kubeconfig: the API server's address (https://…), instead of a kubeconfig")
	fl.StringVar(&a.certificateAuthority, "certificate-authority", "", "with --server: the API server's CA certificate, a PEM file or its content (PEM, or base64 of PEM as in a kubeconfig's certificate-authority-data)")
	fl.StringVar(&a.roleARN, "role-arn", "", "--auth eks: the IAM role to assume with the job's OIDC token")
	fl.StringVar(&a.region, "aws-region", "", "--auth eks: the EKS cluster's region")
	fl.StringVar(&a.clusterName, "cluster-name", "", "--auth eks: the EKS cluster's name")
	fl.StringVar(&a.provider, "workload-identity-provider", "", "--auth gke: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER")
	fl.StringVar(&a.serviceAccount, "service-account", "", "--auth gke: email of the service account to impersonate (default: the federated identity itself)")
	fl.StringVar(&a.tenantID, "tenant-id", "", "--auth aks: the Entra ID tenant (GUID)")
	fl.StringVar(&a.clientID, "client-id", "", "--auth aks: client ID (GUID) of the application or managed identity whose federated credential trusts the job")
}

// options map the flags to auth.Options; the action maps its inputs to
// the same, and both call auth.RESTConfig.
func (k *kubeFlags) options(s streams, getenv env) (auth.Options, error) {
	a := k.auth
	mode, err := auth.ParseMode(a.mode)
	if err != nil {
		return auth.Options{}, &exitError{code: exitUsage, err: fmt.Errorf("--auth: %w", err)}
	}
	ca, err := readCertificateAuthority(a.certificateAuthority)
	if err != nil {
		return auth.Options{}, &exitError{code: exitUsage, err: err}
	}
	if a.server != "" && mode == auth.ModeKubeconfig {
		return auth.Options{}, &exitError{code: exitUsage, err: fmt.Errorf("--server: %w", auth.ErrServerWithKubeconfigAuth)}
	}
	if err := a.checkCloudFlags(mode); err != nil {
		return auth.Options{}, &exitError{code: exitUsage, err: err}
	}
	o := auth.Options{
		Mode:       mode,
		Kubeconfig: cluster.KubeconfigOptions{Path: k.kubeconfig, Content: getenv("SLIPWAY_KUBECONFIG"), Context: k.context},
		Server:     a.server, CertificateAuthority: ca,
		Audience: a.audience,
		EKS:      auth.EKSOptions{RoleARN: a.roleARN, Region: a.region, ClusterName: a.clusterName},
		GKE:      auth.GKEOptions{Provider: a.provider, ServiceAccount: a.serviceAccount},
		AKS:      auth.AKSOptions{TenantID: a.tenantID, ClientID: a.clientID},
		Getenv:   getenv,
		OnAuthenticated: func(user string) {
			fmt.Fprintf(s.err, "authenticated to the cluster with the job's GitHub OIDC token as %s\n", user)
		},
	}
	if getenv("GITHUB_ACTIONS") == "true" {
		// As @actions/core's getIDToken: the runner hides each token in
		// the log. Workflow commands are read from stderr too, and stdout
		// may be a file (-o json > plan.json) that must never hold one.
		o.OnToken = func(tok string) { fmt.Fprintf(s.err, "::add-mask::%s\n", tok) }
	}
	return o, nil
}

// checkCloudFlags refuses a cloud's settings given with another mode: a
// forgotten --auth eks would otherwise fall back to the kubeconfig's own
// credential without a word.
func (a *authFlags) checkCloudFlags(mode auth.Mode) error {
	for _, c := range []struct {
		mode  auth.Mode
		flags string
		set   bool
	}{
		{auth.ModeEKS, "--role-arn, --aws-region and --cluster-name", a.roleARN != "" || a.region != "" || a.clusterName != ""},
		{auth.ModeGKE, "--workload-identity-provider and --service-account", a.provider != "" || a.serviceAccount != ""},
		{auth.ModeAKS, "--tenant-id and --client-id", a.tenantID != "" || a.clientID != ""},
	} {
		if c.set && mode != c.mode {
			return fmt.Errorf("%s are for --auth %s, not %s", c.flags, c.mode, mode)
		}
	}
	return nil
}

// readCertificateAuthority accepts the certificate itself, as the
// action's input (PEM, or base64 of PEM), or a file, as kubectl's flag of
// that name.
func readCertificateAuthority(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.HasPrefix(v, "-----BEGIN") {
		return v, nil
	}
	if data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), "")); err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		return v, nil
	}
	data, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("--certificate-authority: neither a PEM certificate nor a readable file: %w", err)
	}
	return string(data), nil
}

// connect resolves the credential as the action does (auth.RESTConfig)
// and connects.
func (k *kubeFlags) connect(ctx context.Context, s streams, getenv env) (*cluster.Cluster, error) {
	o, err := k.options(s, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := auth.RESTConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return cluster.Connect(cfg)
}
