package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slipwayhq/slipway/internal/bootstrap"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

func newUninstallCmd(s streams, getenv env) *cobra.Command {
	var kf kubeFlags
	var output string
	var silent, withGitHub bool
	var gh bootstrap.GitHubCleanup
	defaults := deploy.DefaultOptions()
	opts := uninstall.Options{Timeout: 2 * time.Minute, LockWait: defaults.LockWait, LockTTL: defaults.LockTTL, Holder: defaults.Holder}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove slipway from a cluster; deployed workloads keep running unless --prune",
		Long: `Remove slipway's footprint from the cluster: the inventories and locks in the
slipway-system namespace, slipway's own ServiceAccount and RBAC, and the
namespace itself. Like "flux uninstall", the workloads slipway deployed keep
running: they only lose their ApplySet membership label, so nothing treats
them as managed any more.

--prune also deletes every object of the inventories, in reverse apply order
(workloads, then namespaces, CRDs last), waiting until each is gone. Objects
that stay terminating because of finalizers are reported; --force-finalizers
removes their finalizers after --timeout.

In a terminal it asks for confirmation; elsewhere pass --silent. --dry-run
lists everything it would do and changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text or json", output)}
			}
			if withGitHub {
				if gh.Owner == "" || gh.Repository == "" || len(opts.ClusterPaths) != 1 {
					return &exitError{code: exitUsage, err: fmt.Errorf("--github needs --owner, --repository and exactly one --path")}
				}
				if gh.Token = getenv("GITHUB_TOKEN"); gh.Token == "" {
					return &exitError{code: exitUsage, err: fmt.Errorf("--github: GITHUB_TOKEN is not set")}
				}
			}
			if !opts.DryRun && !silent {
				ok, err := confirm(s, uninstallQuestion(opts))
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				if !ok {
					return &exitError{code: exitFailed, err: fmt.Errorf("uninstall cancelled: nothing was changed")}
				}
			}
			cluster, err := kf.connect(cmd.Context(), s, getenv)
			if err != nil {
				return err
			}
			// Progress goes where the result does not: live to stdout in
			// text mode (the result's verdict follows it), to stderr for JSON.
			live := s.out
			if output == "json" {
				live = s.err
			}
			var mu sync.Mutex
			opts.Observer = func(e deploy.Event) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintln(live, e.Message)
			}
			u := uninstall.Run(cmd.Context(), cluster, opts)
			if output == "json" {
				err = report.UninstallJSON(s.out, u)
			} else {
				_, err = fmt.Fprintln(s.out, report.UninstallVerdict(u))
			}
			if err != nil {
				return err
			}
			if u.Failed() {
				return &exitError{code: exitFailed}
			}
			if withGitHub {
				client, err := githubClient(getenv, gh.Token)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				gh.GitHub, gh.ClusterPath, gh.DryRun = client, opts.ClusterPaths[0], opts.DryRun
				gh.Observer = func(line string) { opts.Observer(deploy.Event{Message: line}) }
				if err := bootstrap.UninstallGitHub(cmd.Context(), gh); err != nil {
					return &exitError{code: exitFailed, err: err}
				}
			}
			return nil
		},
	}
	kf.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	fl.StringSliceVar(&opts.ClusterPaths, "path", nil, "only this cluster path (repeatable); slipway-system stays for the others")
	fl.BoolVar(&opts.Prune, "prune", false, "also delete every deployed object (reverse apply order, CRDs last)")
	fl.BoolVar(&opts.ForceFinalizers, "force-finalizers", false, "remove finalizers of objects still terminating after --timeout")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "list what would be deleted; change nothing")
	fl.BoolVar(&silent, "silent", false, "do not ask for confirmation")
	fl.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long to wait for deletions")
	fl.BoolVar(&withGitHub, "github", false, "also delete the cluster path's workflow (a commit) and its environment's kubeconfig secret")
	fl.StringVar(&gh.Owner, "owner", "", "with --github: GitHub user or organisation")
	fl.StringVar(&gh.Repository, "repository", "", "with --github: repository name")
	fl.StringVar(&gh.Branch, "branch", "main", "with --github: branch holding the workflow")
	return cmd
}

func uninstallQuestion(o uninstall.Options) string {
	what := "slipway from this cluster"
	if len(o.ClusterPaths) > 0 {
		what = "slipway's inventories of " + strings.Join(o.ClusterPaths, ", ")
	}
	if o.Prune {
		return "Are you sure you want to delete " + what + " AND every object it deployed"
	}
	return "Are you sure you want to remove " + what + " (deployed workloads keep running)"
}

// confirm asks a yes/no question on the terminal. Without a terminal there
// is nobody to ask: refuse rather than guess.
func confirm(s streams, question string) (bool, error) {
	if !isTerminal(s.in) {
		return false, fmt.Errorf("no terminal to confirm in: pass --silent to proceed without confirmation, or --dry-run to see what would happen")
	}
	fmt.Fprintf(s.err, "%s? [y/N]: ", question)
	line, err := bufio.NewReader(s.in).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
