package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
)

// deployWait bounds waiting for the system namespace to be ready.
const deployWait = 2 * time.Minute

// annotationPublished records, on the deployer's ServiceAccount, a digest
// of where the kubeconfig last stored in GitHub went and which cluster it
// reaches, and annotationExpires when its token expires: GitHub never
// returns a secret's value, so this is how a second bootstrap knows it has
// nothing to do, or that the token is due for rotation.
const (
	annotationPublished = "slipway.dev/published-kubeconfig"
	annotationExpires   = "slipway.dev/token-expires"
)

// Options configure a bootstrap.
type Options struct {
	// Owner and Repository name the GitHub repository; Personal means
	// Owner is the token's user rather than an organisation.
	Owner, Repository string
	Personal          bool
	// Private is the visibility of a repository bootstrap creates.
	Private bool
	// Branch to commit to and deploy from.
	Branch string
	// ClusterPath is the cluster's folder, e.g. clusters/prod; its last
	// element names the GitHub environment.
	ClusterPath string
	// ActionRef is the action the workflow uses.
	ActionRef string
	// Author of the commit.
	Author Author
	// Token authenticates Git over HTTPS (the API client carries its own).
	Token string
	// DryRun reports every step and changes nothing.
	DryRun bool

	// Auth is how the workflow authenticates to the cluster:
	// auth.ModeKubeconfig (default) stores a kubeconfig with a short-lived
	// ServiceAccount token (TokenTTL) in the environment's secrets;
	// auth.ModeGitHubOIDC binds RBAC to the environment's GitHub identity
	// and stores nothing, for an API server that trusts GitHub's issuer.
	Auth auth.Mode
	// Audience of the OIDC tokens (auth.ModeGitHubOIDC); "" is
	// auth.DefaultAudience.
	Audience string
	// ClusterRole bound to the deployer; "" is DefaultClusterRole.
	ClusterRole string
	// TokenTTL is the requested lifetime of the deployer's token; 0 is
	// DefaultTokenTTL. The API server may grant less; Result says.
	TokenTTL time.Duration

	Cluster *cluster.Cluster
	GitHub  *github.Client
	// Observer receives "► doing" and "✔ done" lines as they happen.
	Observer func(string)
	// Now stamps the commit; nil is time.Now.
	Now func() time.Time
}

// Result says what bootstrap did.
type Result struct {
	Checks []Check `json:"checks"`
	// Created is true when the repository was created.
	Created bool `json:"repositoryCreated,omitempty"`
	// Commit is the commit pushed, "" when the repository was up to date.
	Commit string   `json:"commit,omitempty"`
	Files  []string `json:"files,omitempty"`
	// Applied are the system objects and what happened to them.
	Applied []result.Change `json:"applied,omitempty"`
	// SecretStored is true when the kubeconfig secret was (re)written.
	SecretStored bool `json:"secretStored,omitempty"`
	// TokenExpires is when the stored kubeconfig's token expires (auth
	// kubeconfig); run bootstrap again before then to rotate it.
	TokenExpires *time.Time `json:"tokenExpires,omitempty"`
	// GitHubUser and AuthenticationConfiguration (auth github-oidc): the
	// identity bound to the deployer's role, and the configuration the
	// API server must be started with (--authentication-config).
	GitHubUser                  string `json:"githubUser,omitempty"`
	AuthenticationConfiguration string `json:"authenticationConfiguration,omitempty"`
	Environment                 string `json:"environment"`
	// Changed is false when the run found everything in place.
	Changed bool `json:"changed"`
}

// ClusterName is the name of a cluster path's cluster: its last element.
func ClusterName(clusterPath string) string { return path.Base(path.Clean(clusterPath)) }

// Run bootstraps. It stops at the first failing step with an error that
// names the step; what was done before stays done, and running it again
// resumes.
func Run(ctx context.Context, o Options) (*Result, error) {
	b := &bootstrapper{o: o.withDefaults(), res: &Result{Environment: ClusterName(o.ClusterPath)}}
	mo, wo, err := b.authSetup(ctx)
	if err != nil {
		return b.res, err
	}
	if err := b.preflight(ctx); err != nil {
		return b.res, err
	}
	repo, done, err := b.repository(ctx)
	if err != nil || done {
		return b.res, err
	}
	b.say("► cloning %s (branch %s)", repo.GetCloneURL(), b.o.Branch)
	g, err := cloneRepo(ctx, repo.GetCloneURL(), b.o.Branch, b.o.Token)
	if err != nil {
		return b.res, err
	}
	defer g.close()
	if err := b.writeFiles(ctx, g, mo, wo); err != nil {
		return b.res, err
	}
	if err := b.applySystemObjects(ctx, g, mo); err != nil {
		return b.res, err
	}
	return b.res, b.storeCredentials(ctx, repo)
}

// bootstrapper is one bootstrap run: its options, the result it fills
// step by step (returned even when a step fails, so the caller shows what
// was done) and where progress goes.
type bootstrapper struct {
	o   Options
	res *Result
}

func (b *bootstrapper) say(format string, args ...any) {
	if b.o.Observer != nil {
		b.o.Observer(fmt.Sprintf(format, args...))
	}
}

// withDefaults fills what the caller left empty.
func (o Options) withDefaults() Options {
	if o.Branch == "" {
		o.Branch = "main"
	}
	if o.ActionRef == "" {
		o.ActionRef = DefaultActionRef
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Author.Name == "" {
		o.Author = Author{Name: "slipway", Email: "slipway@users.noreply.github.com"}
	}
	if o.Auth == "" {
		o.Auth = auth.ModeKubeconfig
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	return o
}

// authSetup decides what the manifests and the workflow say for the auth
// mode: with GitHub OIDC, the cluster's address and CA go in the workflow
// and the deployer's role binds the jobs' GitHub identity.
func (b *bootstrapper) authSetup(ctx context.Context) (manifestOptions, workflowOptions, error) {
	o, env := b.o, b.res.Environment
	mo := manifestOptions{ClusterPath: o.ClusterPath, Auth: o.Auth, ClusterRole: o.ClusterRole}
	wo := workflowOptions{ClusterPath: o.ClusterPath, ClusterName: env, Branch: o.Branch, ActionRef: o.ActionRef, Auth: o.Auth, Audience: o.Audience}
	switch o.Auth {
	case auth.ModeKubeconfig:
	case auth.ModeGitHubOIDC:
		var err error
		if wo.Server, wo.CertificateAuthority, b.res.AuthenticationConfiguration, err = oidcSetup(ctx, o); err != nil {
			return mo, wo, err
		}
		b.res.GitHubUser = auth.GitHubUsername("", o.Owner+"/"+o.Repository, env)
		mo.GitHubUser = b.res.GitHubUser
	default:
		return mo, wo, fmt.Errorf("auth %q: bootstrap supports kubeconfig and github-oidc", o.Auth)
	}
	return mo, wo, nil
}

// preflight checks every permission the steps need before any step, so a
// missing one changes nothing.
func (b *bootstrapper) preflight(ctx context.Context) error {
	o := b.o
	b.say("► running pre-flight checks")
	b.res.Checks = Pre(ctx, CheckOptions{Cluster: o.Cluster, GitHub: o.GitHub, Owner: o.Owner, Repository: o.Repository, Personal: o.Personal, Auth: o.Auth, ClusterRole: o.ClusterRole})
	for _, c := range b.res.Checks {
		b.say("%s", c.Line())
	}
	if !Passed(b.res.Checks) {
		return errors.New("pre-flight checks failed; nothing was changed")
	}
	return nil
}

// repository makes sure the repository exists. done means the run is
// over: a dry-run of a repository not yet created has nothing to clone.
func (b *bootstrapper) repository(ctx context.Context) (repo *github.Repository, done bool, err error) {
	b.say("► making sure %s/%s exists", b.o.Owner, b.o.Repository)
	repo, created, err := ensureRepository(ctx, b.o, b.say)
	if err != nil {
		return nil, false, err
	}
	b.res.Created, b.res.Changed = created, created
	if repo.GetCloneURL() == "" && b.o.DryRun {
		b.say("✔ dry-run: would commit %s and the workflow to the new repository", path.Join(b.o.ClusterPath, SystemDir))
		b.res.Changed = true
		return repo, true, nil
	}
	return repo, false, nil
}

// writeFiles writes slipway's manifests and workflow into the clone,
// then commits and pushes what changed (a dry-run only lists it).
func (b *bootstrapper) writeFiles(ctx context.Context, g *gitRepo, mo manifestOptions, wo workflowOptions) error {
	o := b.o
	files, keep := bootstrapFiles(mo, wo, b.res.Environment)
	if k, ok, err := linkSystemDir(g, o.ClusterPath); err != nil {
		return err
	} else if ok {
		files[k.name] = k.content
	}
	var changed []string
	var err error
	if o.DryRun {
		changed = wouldWrite(g, files, keep)
	} else if changed, err = g.write(files, keep); err != nil {
		return fmt.Errorf("writing the repository files: %w", err)
	}
	b.res.Files = changed
	switch {
	case len(changed) == 0:
		b.say("✔ %s already holds slipway's manifests and workflow", o.Branch)
	case o.DryRun:
		for _, f := range changed {
			b.say("✔ dry-run: would write %s", f)
		}
	default:
		hash, err := g.commitAndPush(ctx, changed, commitMessage(o.ClusterPath, changed), o.Author, o.Now())
		if err != nil {
			return err
		}
		b.res.Commit, b.res.Changed = hash, true
		for _, f := range changed {
			b.say("✔ %s written", f)
		}
		b.say("✔ committed %s and pushed to %s", hash[:12], o.Branch)
	}
	return nil
}

// bootstrapFiles are the files bootstrap writes, by name, and those kept
// as they are once they exist: the user owns the system manifests once
// written (RBAC, say); the workflow is slipway's and kept current.
func bootstrapFiles(mo manifestOptions, wo workflowOptions, env string) (files map[string]string, keep map[string]bool) {
	files = systemManifests(mo)
	keep = map[string]bool{}
	for n := range files {
		keep[n] = true
	}
	files[WorkflowPath(env)] = workflow(wo)
	return files, keep
}

// commitMessage lists the files bootstrap wrote, so the history says
// where they came from.
func commitMessage(clusterPath string, changed []string) string {
	msg := fmt.Sprintf("Add slipway to %s\n\nWritten by slipway bootstrap:\n", clusterPath)
	for _, f := range changed {
		msg += "- " + f + "\n"
	}
	return msg
}

// applySystemObjects applies the system manifests (as written in the
// clone) to the cluster.
func (b *bootstrapper) applySystemObjects(ctx context.Context, g *gitRepo, mo manifestOptions) error {
	b.say("► applying slipway's system objects to the cluster")
	objs, err := systemObjects(g, mo)
	if err != nil {
		return err
	}
	var applyErr error
	b.res.Applied, applyErr = applySystem(ctx, b.o.Cluster, objs, b.o.DryRun)
	for _, c := range b.res.Applied {
		if c.Action != result.ActionUnchanged {
			b.res.Changed = true
		}
		b.say("✔ %s %s", c.ID, firstNonEmpty(c.Message, string(c.Action)))
	}
	return applyErr
}

// storeCredentials stores the deployer's kubeconfig in the environment's
// secrets; with GitHub OIDC it only creates the environment, which the
// jobs' identity names.
func (b *bootstrapper) storeCredentials(ctx context.Context, repo *github.Repository) error {
	o, env := b.o, b.res.Environment
	if o.Auth == auth.ModeGitHubOIDC {
		if o.DryRun {
			b.say("✔ dry-run: would create environment %s (no secret: its jobs authenticate as %s)", env, b.res.GitHubUser)
			return nil
		}
		if _, _, err := o.GitHub.Repositories.CreateUpdateEnvironment(ctx, o.Owner, o.Repository, env, &github.CreateUpdateEnvironment{}); err != nil {
			return fmt.Errorf("creating environment %s: %w", env, err)
		}
		b.say("✔ environment %s ready; no secret stored: its jobs authenticate as %s", env, b.res.GitHubUser)
		return nil
	}
	if o.DryRun {
		b.say("✔ dry-run: would store the deployer's kubeconfig as secret %s of environment %s", KubeconfigSecret, env)
		return nil
	}
	b.say("► storing the deployer's kubeconfig in environment %s", env)
	stored, expires, err := publishKubeconfig(ctx, o, repo, env, b.say)
	if err != nil {
		return err
	}
	b.res.SecretStored, b.res.TokenExpires = stored, &expires
	b.res.Changed = b.res.Changed || stored
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ensureRepository returns the repository, creating it when missing.
func ensureRepository(ctx context.Context, o Options, say func(string, ...any)) (*github.Repository, bool, error) {
	repo, resp, err := o.GitHub.Repositories.Get(ctx, o.Owner, o.Repository)
	if err == nil {
		say("✔ repository %s exists", repo.GetFullName())
		return repo, false, nil
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		return nil, false, fmt.Errorf("reading repository %s/%s: %w", o.Owner, o.Repository, err)
	}
	if o.DryRun {
		say("✔ dry-run: would create repository %s/%s (private: %t)", o.Owner, o.Repository, o.Private)
		return &github.Repository{}, true, nil
	}
	org := o.Owner
	if o.Personal {
		user, _, err := o.GitHub.Users.Get(ctx, "")
		if err != nil {
			return nil, false, fmt.Errorf("reading the token's user: %w", err)
		}
		if !strings.EqualFold(user.GetLogin(), o.Owner) {
			return nil, false, fmt.Errorf("--personal: the token belongs to %s, not %s", user.GetLogin(), o.Owner)
		}
		org = ""
	}
	repo, _, err = o.GitHub.Repositories.Create(ctx, org, &github.Repository{
		Name:        github.Ptr(o.Repository),
		Private:     github.Ptr(o.Private),
		Description: github.Ptr("Kubernetes cluster configuration, deployed by slipway"),
	})
	if err != nil {
		return nil, false, fmt.Errorf("creating repository %s/%s: %w", o.Owner, o.Repository, err)
	}
	say("✔ repository %s created (private: %t)", repo.GetFullName(), repo.GetPrivate())
	return repo, true, nil
}

// wouldWrite lists the files write would change.
func wouldWrite(g *gitRepo, files map[string]string, keep map[string]bool) []string {
	var out []string
	for name, content := range files {
		old, err := g.read(name)
		if err == nil && (keep[name] || string(old) == content) {
			continue
		}
		out = append(out, name)
	}
	sortStrings(out)
	return out
}

type fileEdit struct{ name, content string }

// linkSystemDir makes sure the cluster path's kustomization.yaml, if it has
// one, lists the system folder: a folder without kustomization.yaml is built
// whole, one with it only builds what it lists. Comments and order of the
// user's file are kept.
func linkSystemDir(g *gitRepo, clusterPath string) (fileEdit, bool, error) {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		name := path.Join(clusterPath, n)
		if !g.exists(name) {
			continue
		}
		data, err := g.read(name)
		if err != nil {
			return fileEdit{}, false, err
		}
		rn, err := kyaml.Parse(string(data))
		if err != nil {
			return fileEdit{}, false, fmt.Errorf("%s: %w", name, err)
		}
		res, err := rn.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "resources"))
		if err != nil {
			return fileEdit{}, false, fmt.Errorf("%s: %w", name, err)
		}
		for _, e := range res.Content() {
			if v := strings.TrimSuffix(strings.TrimPrefix(e.Value, "./"), "/"); v == SystemDir {
				return fileEdit{}, false, nil
			}
		}
		if err := res.PipeE(kyaml.Append(&kyaml.Node{Kind: kyaml.ScalarNode, Value: SystemDir})); err != nil {
			return fileEdit{}, false, fmt.Errorf("%s: %w", name, err)
		}
		out, err := rn.String()
		if err != nil {
			return fileEdit{}, false, err
		}
		return fileEdit{name: name, content: out}, true, nil
	}
	return fileEdit{}, false, nil
}

// publishKubeconfig stores a kubeconfig with a fresh short-lived token of
// the deployer as the environment's secret, unless the one stored before
// reaches the same cluster and has more than half its lifetime left. It
// returns whether it stored one and when the stored token expires.
func publishKubeconfig(ctx context.Context, o Options, repo *github.Repository, env string, say func(string, ...any)) (bool, time.Time, error) {
	sa := &corev1.ServiceAccount{}
	if err := o.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: deploy.SystemNamespace, Name: DeployerName}, sa); err != nil {
		return false, time.Time{}, fmt.Errorf("reading ServiceAccount %s/%s: %w", deploy.SystemNamespace, DeployerName, err)
	}
	ca, err := clusterCA(ctx, o.Cluster)
	if err != nil {
		return false, time.Time{}, err
	}
	sum := sha256.Sum256([]byte(repo.GetFullName() + "\x00" + env + "\x00" + o.Cluster.Config.Host + "\x00" + string(ca)))
	digest := hex.EncodeToString(sum[:])

	if _, _, err := o.GitHub.Repositories.CreateUpdateEnvironment(ctx, o.Owner, o.Repository, env, &github.CreateUpdateEnvironment{}); err != nil {
		return false, time.Time{}, fmt.Errorf("creating environment %s: %w", env, err)
	}
	say("✔ environment %s ready", env)
	repoID := int(repo.GetID())
	_, resp, err := o.GitHub.Actions.GetEnvSecret(ctx, repoID, env, KubeconfigSecret)
	exists := err == nil
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return false, time.Time{}, fmt.Errorf("reading secret %s of environment %s: %w", KubeconfigSecret, env, err)
	}
	// time.Now, not o.Now (which stamps commits): the API server's clock
	// set the expiry.
	if exp, ok := tokenStillGood(sa, digest, o.TokenTTL, time.Now()); exists && ok {
		say("✔ secret %s of environment %s is up to date (its token expires %s)", KubeconfigSecret, env, exp.UTC().Format(time.RFC3339))
		return false, exp, nil
	}
	token, expires, err := requestToken(ctx, o.Cluster, sa, o.TokenTTL)
	if err != nil {
		return false, time.Time{}, err
	}
	kc, err := deployerKubeconfig(o.Cluster.Config, env, []byte(token), ca)
	if err != nil {
		return false, time.Time{}, err
	}
	pk, _, err := o.GitHub.Actions.GetEnvPublicKey(ctx, repoID, env)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("reading the public key of environment %s: %w", env, err)
	}
	sealed, err := seal(pk.GetKey(), kc)
	if err != nil {
		return false, time.Time{}, err
	}
	if _, err := o.GitHub.Actions.CreateOrUpdateEnvSecret(ctx, repoID, env, &github.EncryptedSecret{Name: KubeconfigSecret, KeyID: pk.GetKeyID(), EncryptedValue: sealed}); err != nil {
		return false, time.Time{}, fmt.Errorf("storing secret %s of environment %s: %w", KubeconfigSecret, env, err)
	}
	patch := []byte(`{"metadata":{"annotations":{"` + annotationPublished + `":"` + digest + `","` + annotationExpires + `":"` + expires.UTC().Format(time.RFC3339) + `"}}}`)
	if err := o.Cluster.Client.Patch(ctx, sa, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return true, expires, fmt.Errorf("recording the stored kubeconfig's digest: %w", err)
	}
	say("✔ secret %s of environment %s stored; its token expires %s (the token is never printed)", KubeconfigSecret, env, expires.UTC().Format(time.RFC3339))
	return true, expires, nil
}

// tokenStillGood reports whether the token recorded on the ServiceAccount
// went to the same place and has more than half of ttl left, and when it
// expires.
func tokenStillGood(sa *corev1.ServiceAccount, digest string, ttl time.Duration, now time.Time) (time.Time, bool) {
	if sa.Annotations[annotationPublished] != digest {
		return time.Time{}, false
	}
	exp, err := time.Parse(time.RFC3339, sa.Annotations[annotationExpires])
	if err != nil {
		return time.Time{}, false
	}
	return exp, exp.Sub(now) > ttl/2
}

// requestToken asks the API server for a token of the deployer with the
// given lifetime (TokenRequest): it is not stored in the cluster, and it
// expires. The API server may shorten the lifetime
// (--service-account-max-token-expiration); the expiry it grants is
// returned.
func requestToken(ctx context.Context, c *cluster.Cluster, sa *corev1.ServiceAccount, ttl time.Duration) (string, time.Time, error) {
	secs := int64(ttl / time.Second)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}
	if err := c.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", time.Time{}, fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	if tr.Status.Token == "" {
		return "", time.Time{}, fmt.Errorf("the API server returned no token for ServiceAccount %s/%s", sa.Namespace, sa.Name)
	}
	return tr.Status.Token, tr.Status.ExpirationTimestamp.Time, nil
}

// clusterCA returns the CA the deployer's clients should trust: the one
// the administrator's kubeconfig pins, else the cluster's root CA as
// published in every namespace (kube-root-ca.crt).
func clusterCA(ctx context.Context, c *cluster.Cluster) ([]byte, error) {
	if len(c.Config.CAData) > 0 {
		return c.Config.CAData, nil
	}
	if c.Config.CAFile != "" {
		b, err := os.ReadFile(c.Config.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the cluster CA %s: %w", c.Config.CAFile, err)
		}
		return b, nil
	}
	cm := &corev1.ConfigMap{}
	// "default": slipway-system may not exist yet.
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "kube-root-ca.crt"}, cm); err != nil {
		return nil, fmt.Errorf("the administrator's kubeconfig pins no CA, and reading the cluster's (kube-root-ca.crt): %w", err)
	}
	return []byte(cm.Data["ca.crt"]), nil
}

// oidcSetup returns, for auth github-oidc, the API server's address and
// CA for the workflow, and the AuthenticationConfiguration the API server
// must be started with.
func oidcSetup(ctx context.Context, o Options) (server, ca, authnConfig string, err error) {
	caData, err := clusterCA(ctx, o.Cluster)
	if err != nil {
		return "", "", "", err
	}
	cfg, err := auth.AuthenticationConfiguration(auth.TrustOptions{Audience: o.Audience, Repositories: []string{o.Owner + "/" + o.Repository}})
	if err != nil {
		return "", "", "", err
	}
	return o.Cluster.Config.Host, string(caData), string(cfg), nil
}

// GitHubCleanup says what `uninstall --github` removes from the repository.
type GitHubCleanup struct {
	Owner, Repository, Branch, ClusterPath string
	Token                                  string
	Author                                 Author
	DryRun                                 bool
	GitHub                                 *github.Client
	Observer                               func(string)
	Now                                    func() time.Time
}

// UninstallGitHub removes the cluster path's workflow (a commit) and the
// kubeconfig secret of its environment. The environment itself stays: it
// may carry protection rules and other secrets the team set up.
func UninstallGitHub(ctx context.Context, o GitHubCleanup) error {
	say := func(format string, args ...any) {
		if o.Observer != nil {
			o.Observer(fmt.Sprintf(format, args...))
		}
	}
	if o.Branch == "" {
		o.Branch = "main"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Author.Name == "" {
		o.Author = Author{Name: "slipway", Email: "slipway@users.noreply.github.com"}
	}
	env := ClusterName(o.ClusterPath)
	repo, _, err := o.GitHub.Repositories.Get(ctx, o.Owner, o.Repository)
	if err != nil {
		return fmt.Errorf("reading repository %s/%s: %w", o.Owner, o.Repository, err)
	}
	say("► removing slipway from %s", repo.GetFullName())
	_, resp, err := o.GitHub.Actions.GetEnvSecret(ctx, int(repo.GetID()), env, KubeconfigSecret)
	switch {
	case err == nil && o.DryRun:
		say("✔ dry-run: would delete secret %s of environment %s", KubeconfigSecret, env)
	case err == nil:
		if _, err := o.GitHub.Actions.DeleteEnvSecret(ctx, int(repo.GetID()), env, KubeconfigSecret); err != nil {
			return fmt.Errorf("deleting secret %s of environment %s: %w", KubeconfigSecret, env, err)
		}
		say("✔ secret %s of environment %s deleted", KubeconfigSecret, env)
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		say("✔ secret %s of environment %s is not there", KubeconfigSecret, env)
	default:
		return fmt.Errorf("reading secret %s of environment %s: %w", KubeconfigSecret, env, err)
	}
	g, err := cloneRepo(ctx, repo.GetCloneURL(), o.Branch, o.Token)
	if err != nil {
		return err
	}
	defer g.close()
	wf := WorkflowPath(env)
	if !g.exists(wf) {
		say("✔ %s is not there", wf)
		return nil
	}
	if o.DryRun {
		say("✔ dry-run: would delete %s (commit to %s)", wf, o.Branch)
		return nil
	}
	wt, err := g.repo.Worktree()
	if err != nil {
		return err
	}
	if _, err := wt.Remove(wf); err != nil {
		return fmt.Errorf("removing %s: %w", wf, err)
	}
	hash, err := g.commitAndPush(ctx, nil, fmt.Sprintf("Remove slipway's workflow for %s\n\nWritten by slipway uninstall --github:\n- %s (deleted)\n", o.ClusterPath, wf), o.Author, o.Now())
	if err != nil {
		return err
	}
	say("✔ %s deleted (commit %s pushed to %s)", wf, hash[:12], o.Branch)
	return nil
}
