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
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
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
	ModeDrift Mode = "drift"
	// ModeReconcile redeploys the revision each cluster path runs (its
	// deploy record), reverting drift: what a scheduled run does in mode
	// auto, asked for by hand.
	ModeReconcile Mode = "reconcile"
	ModeBootstrap Mode = "bootstrap"
	ModeUninstall Mode = "uninstall"
)

var modes = []Mode{ModeAuto, ModeValidate, ModeDiff, ModeDeploy, ModeDrift, ModeReconcile, ModeBootstrap, ModeUninstall}

// What a reconcile deploys (the reconcile-to input).
const (
	// ReconcileRecorded redeploys the commit each cluster path's deploy
	// record names, whatever the branch holds now.
	ReconcileRecorded = "recorded"
	// ReconcileHead deploys the checked-out commit.
	ReconcileHead = "head"
)

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
	// DiffCompare is the offline diff's noise control and context lines
	// (strip-labels, strip-annotations, skip-kinds, diff-context).
	DiffCompare diff.Options
	// APIVersions are the api-versions input (as --api-versions).
	APIVersions []string
	// Select are the kustomization and helmrelease inputs (as
	// --kustomization and --helmrelease): what validation and the offline
	// diff report. Never a deploy's scope: see checkSelection.
	Select build.Selection
	// SOPS are the other SOPS keys and credentials: sops-pgp-key,
	// sops-vault-token, sops-vault-addresses, sops-cloud-credentials.
	SOPS build.SOPSKeys
	// ReconcileTo is ReconcileRecorded or ReconcileHead.
	ReconcileTo string
	// Revision is the commit (or ref) mode deploy deploys instead of the
	// checkout: a rollback; "" deploys the checkout.
	Revision string
	// Deployments records each deploy as a GitHub deployment.
	Deployments bool
	// Environment names the GitHub environment of a cluster path
	// (environmentName).
	Environment    string
	EnvironmentURL string
	// DriftIssues keeps one issue open per cluster path while it drifts
	// or fails to reconcile.
	DriftIssues bool

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
	in.SOPS = build.SOPSKeys{PGP: []byte(rt.Input("sops-pgp-key")), VaultToken: strings.TrimSpace(rt.Input("sops-vault-token")),
		VaultAddresses: splitList(rt.Input("sops-vault-addresses"))}
	rt.Mask(in.Token, in.AgeKey, string(in.SOPS.PGP), in.SOPS.VaultToken)
	rt.Mask(kubeconfigSecrets(in.Kubeconfig)...)

	in.Mode = Mode(strings.ToLower(rt.Input("mode")))
	if in.Mode == "" {
		in.Mode = ModeAuto
	}
	if !slices.Contains(modes, in.Mode) {
		return nil, &InputError{Name: "mode", Value: string(in.Mode), Reason: "want one of auto, validate, diff, deploy, drift, reconcile, bootstrap, uninstall"}
	}
	in.Paths = splitList(rt.Input("path"))
	in.ExternalObjects = splitList(rt.Input("external-objects"))
	in.APIVersions = splitList(rt.Input("api-versions"))
	if err := readSelection(rt, in); err != nil {
		return nil, err
	}
	if v := strings.TrimSpace(rt.Input("root-source")); v != "" {
		rs, err := build.ParseRootSource(v)
		if err != nil {
			return nil, &InputError{Name: "root-source", Value: v, Reason: err.Error()}
		}
		in.RootSource = &rs
	}
	if err := readContinuousInputs(rt, in); err != nil {
		return nil, err
	}
	if err := readAuth(rt, in); err != nil {
		return nil, err
	}
	var err error
	if in.DiffCompare, err = diffInputs(rt); err != nil {
		return nil, err
	}
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
	if in.SOPS.CloudCredentials, err = boolInput(rt, "sops-cloud-credentials", false); err != nil {
		return nil, err
	}
	if in.SOPS.VaultToken != "" && len(in.SOPS.VaultAddresses) == 0 {
		return nil, &InputError{Name: "sops-vault-token", Reason: "needs sops-vault-addresses: the Vault servers the token may be sent to"}
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

// diffInputs reads the offline diff's noise control: an absent input
// takes the CLI's default, "none" turns it off (an input cannot be told
// apart from an empty one).
func diffInputs(rt *github.Runtime) (diff.Options, error) {
	def := diff.DefaultNoise()
	list := func(v string, d []string) []string {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			return d
		case strings.EqualFold(v, "none"):
			return nil
		}
		return splitList(v)
	}
	o := diff.Options{Noise: diff.Noise{
		StripLabels:      list(rt.Input("strip-labels"), def.StripLabels),
		StripAnnotations: list(rt.Input("strip-annotations"), def.StripAnnotations),
		SkipKinds:        list(rt.Input("skip-kinds"), nil),
	}}
	if err := o.Noise.ValidatePatterns(); err != nil {
		return o, &InputError{Name: "strip-labels/strip-annotations", Value: err.Error(), Reason: "not a valid pattern"}
	}
	if v := strings.TrimSpace(rt.Input("diff-context")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return o, &InputError{Name: "diff-context", Value: v, Reason: "want a number of lines, 0 or more"}
		}
		o.Context = n
		if n == 0 {
			o.Context = -1 // diff.Options: 0 is the default, negative none
		}
	}
	return o, nil
}

// readSelection reads the kustomization and helmrelease inputs: lists of
// NAMESPACE/NAME, parsed as the CLI's --kustomization and --helmrelease.
func readSelection(rt *github.Runtime, in *Inputs) error {
	var err error
	if in.Select.Kustomizations, err = parseRefs("kustomization", rt.Input("kustomization")); err != nil {
		return err
	}
	in.Select.HelmReleases, err = parseRefs("helmrelease", rt.Input("helmrelease"))
	return err
}

// parseRefs parses the list input name as NAMESPACE/NAME references.
func parseRefs(name, value string) ([]result.KustomizationRef, error) {
	var refs []result.KustomizationRef
	for _, v := range splitList(value) {
		ref, err := build.ParseRef(v)
		if err != nil {
			return nil, &InputError{Name: name, Value: v, Reason: "want NAMESPACE/NAME"}
		}
		refs = append(refs, ref)
	}
	return refs, nil
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
	// The clouds' endpoint, CA and session-name variables are read by
	// auth.RESTConfig, for the CLI and the action alike.
	in.EKS = auth.EKSOptions{
		RoleARN: strings.TrimSpace(rt.Input("role-arn")), Region: strings.TrimSpace(rt.Input("aws-region")),
		ClusterName: strings.TrimSpace(rt.Input("cluster-name")),
	}
	in.GKE = auth.GKEOptions{Provider: strings.TrimSpace(rt.Input("workload-identity-provider")), ServiceAccount: strings.TrimSpace(rt.Input("service-account"))}
	in.AKS = auth.AKSOptions{TenantID: strings.TrimSpace(rt.Input("tenant-id")), ClientID: strings.TrimSpace(rt.Input("client-id"))}
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
		Kubeconfig: cluster.KubeconfigOptions{Content: in.Kubeconfig, Context: in.Context},
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

// sopsKeys are every SOPS key and credential of the inputs.
func (in *Inputs) sopsKeys() build.SOPSKeys {
	k := in.SOPS
	k.Age = in.AgeKey
	return k
}

// readContinuousInputs reads the inputs of reconciles, rollbacks,
// deployments and drift issues.
func readContinuousInputs(rt *github.Runtime, in *Inputs) error {
	in.ReconcileTo = strings.ToLower(strings.TrimSpace(rt.Input("reconcile-to")))
	switch in.ReconcileTo {
	case "":
		in.ReconcileTo = ReconcileRecorded
	case ReconcileRecorded, ReconcileHead:
	default:
		return &InputError{Name: "reconcile-to", Value: in.ReconcileTo, Reason: "want recorded or head"}
	}
	in.Revision = strings.TrimSpace(rt.Input("revision"))
	if in.Revision != "" && in.Mode != ModeDeploy {
		return &InputError{Name: "revision", Value: in.Revision, Reason: "deploys a past commit (a rollback): use it with mode deploy"}
	}
	in.Environment = strings.TrimSpace(rt.Input("environment"))
	if _, err := environmentName(in.Environment, "clusters/x"); err != nil {
		return &InputError{Name: "environment", Value: in.Environment, Reason: err.Error()}
	}
	in.EnvironmentURL = strings.TrimSpace(rt.Input("environment-url"))
	var err error
	if in.Deployments, err = boolInput(rt, "deployments", true); err != nil {
		return err
	}
	in.DriftIssues, err = boolInput(rt, "drift-issues", false)
	return err
}
