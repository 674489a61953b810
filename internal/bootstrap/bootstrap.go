package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/result"
)

// deployWait bounds waiting for the system namespace to be ready.
const deployWait = 2 * time.Minute

// annotationPublished records, on the deployer's token Secret, a digest of
// the kubeconfig last stored in GitHub and where: GitHub never returns a
// secret's value, so this is how a second bootstrap knows it has nothing
// to do.
const annotationPublished = "slipway.dev/published-kubeconfig"

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

	Cluster *deploy.Cluster
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
	SecretStored bool   `json:"secretStored,omitempty"`
	Environment  string `json:"environment"`
	// Changed is false when the run found everything in place.
	Changed bool `json:"changed"`
}

// ClusterName is the name of a cluster path's cluster: its last element.
func ClusterName(clusterPath string) string { return path.Base(path.Clean(clusterPath)) }

// Run bootstraps. It stops at the first failing step with an error that
// names the step; what was done before stays done, and running it again
// resumes.
func Run(ctx context.Context, o Options) (*Result, error) {
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
	say := func(format string, args ...any) {
		if o.Observer != nil {
			o.Observer(fmt.Sprintf(format, args...))
		}
	}
	env := ClusterName(o.ClusterPath)
	res := &Result{Environment: env}

	// 1. Pre-flight.
	say("► running pre-flight checks")
	res.Checks = Pre(ctx, CheckOptions{Cluster: o.Cluster, GitHub: o.GitHub, Owner: o.Owner, Repository: o.Repository, Personal: o.Personal})
	for _, c := range res.Checks {
		say("%s", c.Line())
	}
	if !Passed(res.Checks) {
		return res, errors.New("pre-flight checks failed; nothing was changed")
	}

	// 2. The repository.
	say("► making sure %s/%s exists", o.Owner, o.Repository)
	repo, created, err := ensureRepository(ctx, o, say)
	if err != nil {
		return res, err
	}
	res.Created, res.Changed = created, created
	if repo.GetCloneURL() == "" && o.DryRun {
		say("✔ dry-run: would commit %s and the workflow to the new repository", path.Join(o.ClusterPath, SystemDir))
		res.Changed = true
		return res, nil
	}

	// 3. Clone, write, commit, push.
	say("► cloning %s (branch %s)", repo.GetCloneURL(), o.Branch)
	g, err := cloneRepo(ctx, repo.GetCloneURL(), o.Branch, o.Token)
	if err != nil {
		return res, err
	}
	defer g.close()
	files := systemManifests(o.ClusterPath)
	keep := map[string]bool{}
	for n := range files {
		keep[n] = true // the user owns them once written (RBAC, say)
	}
	files[WorkflowPath(env)] = workflow(workflowOptions{ClusterPath: o.ClusterPath, ClusterName: env, Branch: o.Branch, ActionRef: o.ActionRef})
	if k, ok, err := linkSystemDir(g, o.ClusterPath); err != nil {
		return res, err
	} else if ok {
		files[k.name] = k.content
	}
	var changed []string
	if o.DryRun {
		changed = wouldWrite(g, files, keep)
	} else if changed, err = g.write(files, keep); err != nil {
		return res, fmt.Errorf("writing the repository files: %w", err)
	}
	res.Files = changed
	switch {
	case len(changed) == 0:
		say("✔ %s already holds slipway's manifests and workflow", o.Branch)
	case o.DryRun:
		for _, f := range changed {
			say("✔ dry-run: would write %s", f)
		}
	default:
		msg := fmt.Sprintf("Add slipway to %s\n\nWritten by slipway bootstrap:\n", o.ClusterPath)
		for _, f := range changed {
			msg += "- " + f + "\n"
		}
		hash, err := g.commitAndPush(ctx, changed, msg, o.Author, o.Now())
		if err != nil {
			return res, err
		}
		res.Commit, res.Changed = hash, true
		for _, f := range changed {
			say("✔ %s written", f)
		}
		say("✔ committed %s and pushed to %s", hash[:12], o.Branch)
	}

	// 4. Apply the system manifests.
	say("► applying slipway's system objects to the cluster")
	objs, err := systemObjects(g, o.ClusterPath)
	if err != nil {
		return res, err
	}
	res.Applied, err = applySystem(ctx, o.Cluster, objs, o.DryRun)
	for _, c := range res.Applied {
		if c.Action != result.ActionUnchanged {
			res.Changed = true
		}
		say("✔ %s %s", c.ID, firstNonEmpty(c.Message, string(c.Action)))
	}
	if err != nil {
		return res, err
	}

	// 5. The deployer's kubeconfig, stored in the environment's secrets.
	if o.DryRun {
		say("✔ dry-run: would store the deployer's kubeconfig as secret %s of environment %s", KubeconfigSecret, env)
		return res, nil
	}
	say("► storing the deployer's kubeconfig in environment %s", env)
	stored, err := publishKubeconfig(ctx, o, repo, env, say)
	if err != nil {
		return res, err
	}
	res.SecretStored = stored
	res.Changed = res.Changed || stored
	return res, nil
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

// publishKubeconfig waits for the deployer's token, builds its kubeconfig
// and stores it as the environment's secret, unless the same kubeconfig
// was stored there before.
func publishKubeconfig(ctx context.Context, o Options, repo *github.Repository, env string, say func(string, ...any)) (bool, error) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: deploy.SystemNamespace, Name: DeployerTokenSecret}
	deadline := time.Now().Add(deployWait)
	for {
		err := o.Cluster.Client.Get(ctx, key, sec)
		if err == nil && len(sec.Data["token"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("the token of ServiceAccount %s/%s was not issued within %s: is the token controller running?", deploy.SystemNamespace, DeployerName, deployWait)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	kc, err := deployerKubeconfig(o.Cluster.Config, env, sec.Data["token"], sec.Data["ca.crt"])
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(append([]byte(repo.GetFullName()+"\x00"+env+"\x00"), kc...))
	digest := hex.EncodeToString(sum[:])

	if _, _, err := o.GitHub.Repositories.CreateUpdateEnvironment(ctx, o.Owner, o.Repository, env, &github.CreateUpdateEnvironment{}); err != nil {
		return false, fmt.Errorf("creating environment %s: %w", env, err)
	}
	say("✔ environment %s ready", env)
	repoID := int(repo.GetID())
	_, resp, err := o.GitHub.Actions.GetEnvSecret(ctx, repoID, env, KubeconfigSecret)
	exists := err == nil
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return false, fmt.Errorf("reading secret %s of environment %s: %w", KubeconfigSecret, env, err)
	}
	if exists && sec.Annotations[annotationPublished] == digest {
		say("✔ secret %s of environment %s is up to date", KubeconfigSecret, env)
		return false, nil
	}
	pk, _, err := o.GitHub.Actions.GetEnvPublicKey(ctx, repoID, env)
	if err != nil {
		return false, fmt.Errorf("reading the public key of environment %s: %w", env, err)
	}
	sealed, err := seal(pk.GetKey(), kc)
	if err != nil {
		return false, err
	}
	if _, err := o.GitHub.Actions.CreateOrUpdateEnvSecret(ctx, repoID, env, &github.EncryptedSecret{Name: KubeconfigSecret, KeyID: pk.GetKeyID(), EncryptedValue: sealed}); err != nil {
		return false, fmt.Errorf("storing secret %s of environment %s: %w", KubeconfigSecret, env, err)
	}
	patch := []byte(`{"metadata":{"annotations":{"` + annotationPublished + `":"` + digest + `"}}}`)
	if err := o.Cluster.Client.Patch(ctx, sec, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return true, fmt.Errorf("recording the stored kubeconfig's digest: %w", err)
	}
	say("✔ secret %s of environment %s stored (the token is never printed)", KubeconfigSecret, env)
	return true, nil
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
