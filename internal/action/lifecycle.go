package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slipwayhq/slipway/internal/bootstrap"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/uninstall"
)

// Values the `confirm` input must hold for mode: uninstall. A workflow
// cannot answer a prompt, so it must say so in writing — and deleting the
// workloads too takes its own words: the prune input defaults to true for
// deploys and cannot be what decides this.
const (
	ConfirmUninstall      = "uninstall"
	ConfirmUninstallPrune = "uninstall --prune"
)

// lifecycle runs mode bootstrap or uninstall. Both change a cluster's
// set-up rather than deploy a commit, so they run only when someone asks
// for them (workflow_dispatch), for exactly one cluster path, with an
// administrator's kubeconfig.
func (r *run) lifecycle(ctx context.Context) Outcome {
	in := r.in
	if name := r.rt.Getenv("GITHUB_EVENT_NAME"); name != "workflow_dispatch" {
		return r.fatal(fmt.Errorf("mode %s runs only from workflow_dispatch (a person asking for it), not on %s", in.Mode, name))
	}
	if !in.hasCluster() {
		return r.fatal(fmt.Errorf("mode %s needs an administrator's kubeconfig in the kubeconfig input (or auth github-oidc for an identity with that role)", in.Mode))
	}
	if len(in.Paths) != 1 {
		return r.fatal(fmt.Errorf("mode %s needs exactly one cluster path in the path input", in.Mode))
	}
	cfg, err := auth.RESTConfig(ctx, in.authOptions(r.rt))
	if err != nil {
		return r.fatal(err)
	}
	cluster, err := cluster.Connect(cfg)
	if err != nil {
		return r.fatal(err)
	}
	path := in.Paths[0]
	if in.Mode == ModeUninstall {
		return r.uninstall(ctx, cluster, path)
	}
	return r.bootstrap(ctx, cluster, path)
}

func (r *run) bootstrap(ctx context.Context, cluster *cluster.Cluster, path string) Outcome {
	owner, repo, ok := strings.Cut(r.rt.Getenv("GITHUB_REPOSITORY"), "/")
	if !ok {
		return r.fatal(errors.New("GITHUB_REPOSITORY is not set"))
	}
	if r.in.Token == "" {
		return r.fatal(errors.New("mode bootstrap needs a github-token that may push and manage environments and secrets (GITHUB_TOKEN may not write secrets: use a fine-grained token or an app token with administration, environments, secrets and contents write)"))
	}
	client, err := github.NewAPI(r.httpClient(), r.in.Token, r.rt.Getenv("GITHUB_API_URL"))
	if err != nil {
		return r.fatal(err)
	}
	branch := r.rt.Getenv("GITHUB_REF_NAME")
	if branch == "" {
		branch = "main"
	}
	var log strings.Builder
	r.rt.Group("slipway bootstrap " + path)
	res, err := bootstrap.Run(ctx, bootstrap.Options{
		Owner: owner, Repository: repo, Branch: branch, ClusterPath: path, Private: true,
		Token: r.in.Token, Cluster: cluster, GitHub: client,
		Author:   bootstrap.Author{Name: "github-actions[bot]", Email: "41898282+github-actions[bot]@users.noreply.github.com"},
		Observer: func(line string) { r.rt.Untrusted(line); log.WriteString(line + "\n") },
	})
	r.rt.EndGroup()
	summary := "## slipway bootstrap `" + path + "`\n\n```\n" + log.String() + "```\n"
	if err != nil {
		r.rt.Annotate(github.Annotation{Level: github.LevelFailure, Title: "slipway bootstrap", Message: err.Error()})
		_ = r.rt.AppendSummary(summary + "\n✗ " + report.MarkdownEscape(err.Error()) + "\n")
		r.setOutputs(github.ConclusionFailure, res != nil && res.Changed, nil, "", "")
		return Outcome{Result: github.ConclusionFailure, ExitCode: 1}
	}
	_ = r.rt.AppendSummary(summary)
	r.setOutputs(github.ConclusionSuccess, res.Changed, nil, "", "")
	return Outcome{Result: github.ConclusionSuccess}
}

func (r *run) uninstall(ctx context.Context, cluster *cluster.Cluster, path string) Outcome {
	confirm := strings.TrimSpace(r.rt.Input("confirm"))
	if confirm != ConfirmUninstall && confirm != ConfirmUninstallPrune {
		return r.fatal(fmt.Errorf("mode uninstall removes slipway from the cluster: set the input confirm to %q (workloads keep running) or %q (workloads are deleted too)", ConfirmUninstall, ConfirmUninstallPrune))
	}
	prune := confirm == ConfirmUninstallPrune
	defaults := deploy.DefaultOptions()
	r.rt.Group("slipway uninstall " + path)
	u := uninstall.Run(ctx, cluster, uninstall.Options{
		ClusterPaths: []string{path}, Prune: prune, Timeout: r.in.Timeout,
		Holder: r.lockHolder(), LockWait: defaults.LockWait, LockTTL: defaults.LockTTL,
		Observer: func(e deploy.Event) { r.rt.Untrusted(e.Message) },
	})
	r.rt.EndGroup()
	var text strings.Builder
	_ = report.UninstallText(&text, u)
	_ = r.rt.AppendSummary("## slipway uninstall `" + path + "`\n\n```\n" + text.String() + "```\n")
	if u.Failed() {
		r.rt.Annotate(github.Annotation{Level: github.LevelFailure, Title: "slipway uninstall", Message: report.UninstallVerdict(u)})
		r.setOutputs(github.ConclusionFailure, u.Changed(), nil, "", "")
		return Outcome{Result: github.ConclusionFailure, ExitCode: 1}
	}
	r.setOutputs(github.ConclusionSuccess, u.Changed(), nil, "", "")
	return Outcome{Result: github.ConclusionSuccess}
}

func (r *run) httpClient() *http.Client {
	if r.opts.HTTPClient != nil {
		return r.opts.HTTPClient
	}
	return &http.Client{}
}
