package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-github/v84/github"
	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/bootstrap"
	ghapi "github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/source"
)

// githubClient returns a GitHub API client for the token, at
// $GITHUB_API_URL when set (GitHub Enterprise Server, and what Actions
// sets), api.github.com otherwise.
func githubClient(getenv env, token string) (*github.Client, error) {
	return ghapi.NewAPI(&http.Client{}, token, getenv("GITHUB_API_URL"))
}

func newCheckCmd(s streams, getenv env) *cobra.Command {
	var kf kubeFlags
	var pre bool
	var owner, repository string
	cmd := &cobra.Command{
		Use:   "check --pre",
		Short: "Check that a cluster (and GitHub) are ready for bootstrap",
		Long: `Pre-flight checks before "slipway bootstrap": the cluster is reachable and its
Kubernetes version supported, the current identity may do what bootstrap
does (asked with SelfSubjectAccessReviews), and — when GITHUB_TOKEN is set —
the token is valid and scoped for --owner/--repository. One ✔/✗ line per
check; exits 1 on any ✗.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !pre {
				return &exitError{code: exitUsage, err: fmt.Errorf("only the pre-flight checks exist: pass --pre")}
			}
			o := bootstrap.CheckOptions{Owner: owner, Repository: repository}
			cluster, err := kf.connect(cmd.Context(), s, getenv)
			if err != nil {
				return err
			}
			o.Cluster = cluster
			if t := getenv("GITHUB_TOKEN"); t != "" {
				if o.GitHub, err = githubClient(getenv, t); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			checks := bootstrap.Pre(cmd.Context(), o)
			for _, c := range checks {
				fmt.Fprintln(s.out, c.Line())
			}
			if !bootstrap.Passed(checks) {
				return &exitError{code: exitFailed, err: fmt.Errorf("pre-flight checks failed")}
			}
			fmt.Fprintln(s.out, "✔ all checks passed")
			return nil
		},
	}
	kf.register(cmd)
	cmd.Flags().BoolVar(&pre, "pre", false, "run the pre-flight checks")
	cmd.Flags().StringVar(&owner, "owner", "", "GitHub user or organisation (checks the token against the repository)")
	cmd.Flags().StringVar(&repository, "repository", "", "GitHub repository name")
	return cmd
}

func newBootstrapCmd(s streams, getenv env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Set a cluster and its configuration repository up for slipway",
	}
	cmd.AddCommand(newBootstrapGitHubCmd(s, getenv))
	return cmd
}

func newBootstrapGitHubCmd(s streams, getenv env) *cobra.Command {
	var kf kubeFlags
	var output string
	var tokenAuth bool
	var authMode string
	o := bootstrap.Options{}
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Bootstrap a GitHub repository and a cluster: manifests, workflow, deployer credentials",
		Long: `Set a cluster and its GitHub repository up in one command, as
"flux bootstrap github" does, with nothing running in the cluster:

  1. pre-flight checks (as "slipway check --pre");
  2. the repository exists (created, private by default, when missing);
  3. the cluster path holds slipway's system manifests (namespace
     slipway-system, a deployer ServiceAccount and its RBAC) and
     .github/workflows/slipway-<cluster>.yaml deploys it on push, diffs pull
     requests and runs on demand — committed and pushed;
  4. the system objects are applied to the cluster;
  5. a kubeconfig for the deployer, with a short-lived token (--token-ttl,
     7 days by default; run bootstrap again to rotate it), is stored,
     encrypted, as the secret SLIPWAY_KUBECONFIG of the GitHub environment
     named after the cluster.

With --auth github-oidc nothing is stored: the deployer's role is bound to
the GitHub identity of the environment's jobs (repo:OWNER/REPO:environment:
NAME), the workflow requests an OIDC token, and bootstrap prints the
AuthenticationConfiguration the API server must be started with.

The token comes from GITHUB_TOKEN and is never printed. Running it again
changes nothing and says so; a changed flag changes only what it must.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text or json", output)}
			}
			if o.Owner == "" || o.Repository == "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("--owner and --repository are required")}
			}
			mode, err := auth.ParseMode(authMode)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("--auth: %w", err)}
			}
			o.Auth = mode
			o.Token = getenv("GITHUB_TOKEN")
			if o.Token == "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("GITHUB_TOKEN is not set: bootstrap needs a token that may create the repository, push, and manage its environments and secrets")}
			}
			if o.ClusterPath == "" {
				name, err := cluster.CurrentContext(cluster.KubeconfigOptions{Path: kf.kubeconfig, Context: kf.context}, getenv)
				if err != nil || name == "" {
					return &exitError{code: exitUsage, err: fmt.Errorf("no --path given and no kubeconfig context to name it after")}
				}
				o.ClusterPath = "clusters/" + name
			}
			clean, err := source.CleanRelative(o.ClusterPath)
			if err != nil || clean == "." {
				return &exitError{code: exitUsage, err: fmt.Errorf("--path %q: want a folder inside the repository, e.g. clusters/prod", o.ClusterPath)}
			}
			o.ClusterPath = clean
			gh, err := githubClient(getenv, o.Token)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			o.GitHub = gh
			cluster, err := kf.connect(cmd.Context(), s, getenv)
			if err != nil {
				return err
			}
			o.Cluster = cluster
			live := s.out
			if output == "json" {
				live = s.err
			}
			var mu sync.Mutex
			o.Observer = func(line string) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintln(live, line)
			}
			res, err := bootstrap.Run(cmd.Context(), o)
			if output == "json" {
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				if jerr := enc.Encode(res); jerr != nil {
					return jerr
				}
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if output == "text" {
				printNextSteps(s, o, res)
			}
			return nil
		},
	}
	kf.registerKubeconfig(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.Owner, "owner", "", "GitHub user or organisation")
	fl.StringVar(&o.Repository, "repository", "", "GitHub repository name")
	fl.StringVar(&o.Branch, "branch", "main", "branch to commit to and deploy from")
	fl.StringVar(&o.ClusterPath, "path", "", "cluster path in the repository (default clusters/<kubeconfig context>)")
	fl.BoolVar(&o.Personal, "personal", false, "the owner is the token's user, not an organisation")
	fl.BoolVar(&o.Private, "private", true, "create the repository private")
	fl.BoolVar(&tokenAuth, "token-auth", true, "accepted for familiarity: slipway always uses the token over HTTPS (it needs no deploy key)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "report every step; change nothing")
	fl.StringVar(&o.ActionRef, "action", bootstrap.DefaultActionRef, "the action the workflow uses")
	fl.StringVar(&o.Author.Name, "author-name", "slipway", "commit author name")
	fl.StringVar(&o.Author.Email, "author-email", "slipway@users.noreply.github.com", "commit author email")
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&authMode, "auth", "kubeconfig", "how the workflow authenticates: kubeconfig (a short-lived token in an environment secret) or github-oidc (the job's OIDC token; nothing stored)")
	fl.StringVar(&o.Audience, "audience", "", "github-oidc: the token audience the API server accepts (default "+auth.DefaultAudience+")")
	fl.StringVar(&o.ClusterRole, "cluster-role", bootstrap.DefaultClusterRole, "the ClusterRole bound to the deployer (e.g. a role covering only the kinds the repository deploys)")
	fl.DurationVar(&o.TokenTTL, "token-ttl", bootstrap.DefaultTokenTTL, "kubeconfig: lifetime requested for the deployer's token")
	return cmd
}

func printNextSteps(s streams, o bootstrap.Options, res *bootstrap.Result) {
	if o.DryRun {
		fmt.Fprintln(s.out, "✔ dry-run finished: nothing was changed")
		return
	}
	if !res.Changed {
		fmt.Fprintln(s.out, "✔ bootstrap finished: everything was in place already, nothing changed")
	} else {
		fmt.Fprintln(s.out, "✔ bootstrap finished")
	}
	if res.AuthenticationConfiguration != "" {
		fmt.Fprintf(s.out, `
The cluster's API server must trust GitHub's OIDC issuer. Start it with
--authentication-config=<file> holding (merge it into an existing one):

%s
The deploy job then authenticates as %s.
`, res.AuthenticationConfiguration, res.GitHubUser)
	}
	if res.TokenExpires != nil {
		fmt.Fprintf(s.out, "\nThe stored token expires %s: run this command again before then to\nrotate it (it replaces a token with less than half its lifetime left).\n", res.TokenExpires.UTC().Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintf(s.out, `
Next:
  • The workflow %s deploys %s on every push to %s.
    Commits pushed with GITHUB_TOKEN do not trigger workflows; push from your
    machine, or run it now: gh workflow run %s --repo %s/%s
  • Protect the environment %q (Settings → Environments) to limit deploys to %s.
  • Put SOPS age keys in the secret SOPS_AGE_KEY of that environment if the
    repository has encrypted Secrets.
`, bootstrap.WorkflowPath(res.Environment), o.ClusterPath, o.Branch,
		strings.TrimPrefix(bootstrap.WorkflowPath(res.Environment), ".github/workflows/"), o.Owner, o.Repository, res.Environment, o.Branch)
}
