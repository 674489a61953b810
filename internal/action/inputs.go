package action

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/kube/auth"
)

// Mode is what the action was asked to do.
type Mode string

// Modes of the `mode` input.
const (
	ModeAuto     Mode = "auto"
	ModeValidate Mode = "validate"
	ModeDiff     Mode = "diff"
	ModeDeploy   Mode = "deploy"
	// ModeDrift reports what differs between the checkout and the cluster
	// (a server-side dry-run) and changes nothing.
	ModeDrift     Mode = "drift"
	ModeBootstrap Mode = "bootstrap"
	ModeUninstall Mode = "uninstall"
)

var modes = []Mode{ModeAuto, ModeValidate, ModeDiff, ModeDeploy, ModeDrift, ModeBootstrap, ModeUninstall}

// Inputs are the action's inputs, parsed.
type Inputs struct {
	Mode Mode
	// Paths are the cluster paths given; empty means every one.
	Paths         []string
	Kubeconfig    string
	Context       string
	Token         string
	AgeKey        string
	Prune         bool
	Wait          bool
	Timeout       time.Duration
	AllowEmpty    bool
	AllowRollback bool
	// AllowLocalSources lets sources reach the runner's own and metadata
	// addresses (source.AddressPolicy).
	AllowLocalSources bool
	Comment           bool
	CacheDir          string
	KubernetesVersion string
	// ExternalObjects are files of ConfigMaps and Secrets that exist in the
	// cluster but not in the repository (build.LoadExternal).
	ExternalObjects []string
	// RootSource is the root-source input, as --root-source: the source
	// Flux syncs the cluster paths from when the repository does not name
	// it; nil when not given.
	RootSource *build.RootSource

	// Auth says where the cluster credential comes from; with
	// auth.ModeGitHubOIDC the cluster is the kubeconfig's (which holds no
	// credential) or Server with CertificateAuthority.
	Auth                         auth.Mode
	Audience                     string
	Server, CertificateAuthority string
	// EKS are the role-arn, aws-region and cluster-name inputs (auth eks).
	EKS auth.EKSOptions
	// GKE are the workload-identity-provider and service-account inputs
	// (auth gke).
	GKE auth.GKEOptions
	// AKS are the tenant-id and client-id inputs (auth aks).
	AKS auth.AKSOptions
}

// InputError is an input slipway cannot use. Value is empty for secret
// inputs, so the error can be printed.
type InputError struct {
	Name, Value, Reason string
}

func (e *InputError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("input %s: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("input %s: %q: %s", e.Name, e.Value, e.Reason)
}

// readInputs reads and checks the inputs. It masks secret inputs first,
// before an error about them could be printed.
func readInputs(rt *github.Runtime) (*Inputs, error) {
	in := &Inputs{
		Kubeconfig:        rt.Input("kubeconfig"),
		Context:           rt.Input("context"),
		Token:             rt.Input("github-token"),
		AgeKey:            rt.Input("sops-age-key"),
		CacheDir:          rt.Input("cache-dir"),
		KubernetesVersion: rt.Input("kubernetes-version"),
	}
	if in.Token == "" {
		in.Token = strings.TrimSpace(rt.Getenv("GITHUB_TOKEN"))
	}
	rt.Mask(in.Token, in.AgeKey)
	rt.Mask(kubeconfigSecrets(in.Kubeconfig)...)

	in.Mode = Mode(strings.ToLower(rt.Input("mode")))
	if in.Mode == "" {
		in.Mode = ModeAuto
	}
	if !slices.Contains(modes, in.Mode) {
		return nil, &InputError{Name: "mode", Value: string(in.Mode), Reason: "want one of auto, validate, diff, deploy, drift, bootstrap, uninstall"}
	}
	in.Paths = splitList(rt.Input("path"))
	in.ExternalObjects = splitList(rt.Input("external-objects"))
	if v := strings.TrimSpace(rt.Input("root-source")); v != "" {
		rs, err := build.ParseRootSource(v)
		if err != nil {
			return nil, &InputError{Name: "root-source", Value: v, Reason: err.Error()}
		}
		in.RootSource = &rs
	}
	if err := readAuth(rt, in); err != nil {
		return nil, err
	}
	var err error
	if in.Prune, err = boolInput(rt, "prune", true); err != nil {
		return nil, err
	}
	if in.Wait, err = boolInput(rt, "wait", false); err != nil {
		return nil, err
	}
	if in.AllowEmpty, err = boolInput(rt, "allow-empty", false); err != nil {
		return nil, err
	}
	if in.AllowRollback, err = boolInput(rt, "allow-rollback", false); err != nil {
		return nil, err
	}
	if in.AllowLocalSources, err = boolInput(rt, "allow-local-sources", false); err != nil {
		return nil, err
	}
	if in.Comment, err = boolInput(rt, "comment", true); err != nil {
		return nil, err
	}
	in.Timeout = 5 * time.Minute
	if v := rt.Input("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, &InputError{Name: "timeout", Value: v, Reason: "want a positive duration such as 5m or 90s"}
		}
		in.Timeout = d
	}
	return in, nil
}

// readAuth reads the auth, audience, server and certificate-authority
// inputs and checks they name one cluster.
func readAuth(rt *github.Runtime, in *Inputs) error {
	mode, err := auth.ParseMode(rt.Input("auth"))
	if err != nil {
		return &InputError{Name: "auth", Value: rt.Input("auth"), Reason: err.Error()}
	}
	in.Auth = mode
	in.Audience = strings.TrimSpace(rt.Input("audience"))
	in.Server = strings.TrimSpace(rt.Input("server"))
	in.CertificateAuthority = rt.Input("certificate-authority")
	in.EKS = auth.EKSOptions{
		RoleARN: strings.TrimSpace(rt.Input("role-arn")), Region: strings.TrimSpace(rt.Input("aws-region")),
		ClusterName: strings.TrimSpace(rt.Input("cluster-name")), SessionName: "slipway-" + rt.Getenv("GITHUB_RUN_ID"),
	}
	if in.EKS.SessionName == "slipway-" {
		in.EKS.SessionName = "slipway"
	}
	in.GKE = auth.GKEOptions{Provider: strings.TrimSpace(rt.Input("workload-identity-provider")), ServiceAccount: strings.TrimSpace(rt.Input("service-account"))}
	// AZURE_AUTHORITY_HOST is azidentity's own variable for another cloud.
	in.AKS = auth.AKSOptions{TenantID: strings.TrimSpace(rt.Input("tenant-id")), ClientID: strings.TrimSpace(rt.Input("client-id")), AuthorityHost: rt.Getenv("AZURE_AUTHORITY_HOST")}
	if mode == auth.ModeEKS {
		if in.EKS, err = auth.EKSFromEnv(in.EKS, rt.Getenv); err != nil {
			return &InputError{Name: "auth", Value: string(mode), Reason: err.Error()}
		}
	}
	switch {
	case in.Server != "" && mode == auth.ModeKubeconfig:
		return &InputError{Name: "server", Value: in.Server, Reason: "the server input is for auth github-oidc, eks, gke or aks; with auth kubeconfig the kubeconfig names the cluster"}
	case in.Server != "" && in.Kubeconfig != "":
		return &InputError{Name: "server", Value: in.Server, Reason: "give the cluster either as a kubeconfig or as server and certificate-authority, not both"}
	case in.Server != "" && strings.TrimSpace(in.CertificateAuthority) == "":
		return &InputError{Name: "certificate-authority", Reason: "the server input needs the API server's CA (PEM): a token is only sent to a verified server"}
	case mode != auth.ModeKubeconfig && in.Server == "" && in.Kubeconfig == "":
		return &InputError{Name: "auth", Value: string(mode), Reason: string(mode) + " needs the cluster: a kubeconfig without credentials, or server and certificate-authority"}
	case mode == auth.ModeEKS && (in.EKS.RoleARN == "" || in.EKS.Region == "" || in.EKS.ClusterName == ""):
		return &InputError{Name: "auth", Value: string(mode), Reason: "eks needs role-arn, aws-region and cluster-name"}
	case mode == auth.ModeAKS && (in.AKS.TenantID == "" || in.AKS.ClientID == ""):
		return &InputError{Name: "auth", Value: string(mode), Reason: "aks needs tenant-id and client-id"}
	case mode == auth.ModeGKE && in.GKE.Provider == "":
		return &InputError{Name: "auth", Value: string(mode), Reason: "gke needs workload-identity-provider (and usually service-account)"}
	}
	return nil
}

// hasCluster reports whether the inputs name a cluster to deploy to or
// diff against.
func (in *Inputs) hasCluster() bool { return in.Kubeconfig != "" || in.Server != "" }

// authOptions are the inputs' cluster settings for auth.RESTConfig.
func (in *Inputs) authOptions(rt *github.Runtime) auth.Options {
	return auth.Options{
		Mode:       in.Auth,
		Kubeconfig: deploy.KubeconfigOptions{Content: in.Kubeconfig, Context: in.Context},
		Server:     in.Server, CertificateAuthority: in.CertificateAuthority,
		Audience: in.Audience,
		EKS:      in.EKS,
		GKE:      in.GKE,
		AKS:      in.AKS,
		Getenv:   rt.Getenv,
		// The runner masks the ID token as @actions/core's getIDToken
		// does: it is a credential for as long as it lives.
		OnToken: func(tok string) { rt.Mask(tok) },
		OnAuthenticated: func(user string) {
			rt.Logf("authenticated to the cluster with the job's GitHub OIDC token as %s", user)
		},
	}
}

// splitList splits a newline- or comma-separated list, dropping blanks and
// duplicates.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		f = strings.TrimSpace(f)
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func boolInput(rt *github.Runtime, name string, def bool) (bool, error) {
	v := rt.Input(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &InputError{Name: name, Value: v, Reason: "want true or false"}
	}
	return b, nil
}

// kubeconfigSecrets returns the credentials in a kubeconfig, in every form
// they could be printed: tokens, passwords, client keys as base64 (as in
// the file) and decoded. A kubeconfig that does not parse is masked line by
// line: better a garbled log than a leaked key.
func kubeconfigSecrets(content string) []string {
	if strings.TrimSpace(content) == "" {
		return nil
	}
	cfg, err := clientcmd.Load([]byte(content))
	if err != nil {
		return strings.Split(content, "\n")
	}
	var out []string
	for _, ai := range cfg.AuthInfos {
		out = append(out, ai.Token, ai.Password)
		if len(ai.ClientKeyData) > 0 {
			out = append(out, string(ai.ClientKeyData), base64.StdEncoding.EncodeToString(ai.ClientKeyData))
		}
		if ai.AuthProvider != nil {
			for _, v := range ai.AuthProvider.Config {
				out = append(out, v)
			}
		}
	}
	return out
}
