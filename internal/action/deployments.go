package action

import (
	"context"
	"fmt"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/result"
)

// Every deploy (push, manual, reconcile, rollback) is recorded as a GitHub
// deployment of the commit deployed to the cluster path's environment, so
// the repository's Environments page and pull requests show what runs
// where. The record is a report: a token without `deployments: write`
// gets one warning, and the deploy goes on.

// deployment is one started GitHub deployment; id 0 means none.
type deployment struct {
	id  int64
	env string
}

// startDeployment creates pr's deployment in state in_progress, when the
// run deploys and deployments are on.
func (r *run) startDeployment(ctx context.Context, p *plan, pr *pathReport) deployment {
	if !p.deploy || !r.in.Deployments || r.gh == nil || r.deploymentsOff {
		return deployment{}
	}
	env, err := environmentName(r.in.Environment, pr.path)
	if err != nil {
		r.warnf("GitHub deployment of %s: %v", pr.path, err) // checked with the inputs: not reached
		return deployment{}
	}
	id, err := r.gh.CreateDeployment(ctx, github.Deployment{Commit: r.commitOf(pr.path), Environment: env, Description: deploymentDescription(p, r.event.Name)})
	if err == nil {
		err = r.gh.CreateDeploymentStatus(ctx, id, r.deploymentStatus(github.DeploymentInProgress, "slipway is deploying"))
	}
	if err != nil {
		r.deploymentFailed(err)
		if id == 0 {
			return deployment{}
		}
	}
	return deployment{id: id, env: env}
}

// finishDeployment sets the deployment's final state from the deploy's
// outcome.
func (r *run) finishDeployment(ctx context.Context, d deployment, pr *pathReport) {
	if d.id == 0 || r.deploymentsOff {
		return
	}
	state, desc := deploymentOutcome(pr.deploy)
	if err := r.gh.CreateDeploymentStatus(ctx, d.id, r.deploymentStatus(state, desc)); err != nil {
		r.deploymentFailed(err)
	}
}

func (r *run) deploymentStatus(state github.DeploymentState, desc string) github.DeploymentStatus {
	return github.DeploymentStatus{State: state, Description: desc, LogURL: r.runURL(), EnvironmentURL: r.in.EnvironmentURL}
}

// deploymentFailed warns once and stops recording deployments: a 403 (no
// `deployments: write`) would answer every later request the same.
func (r *run) deploymentFailed(err error) {
	r.deploymentsOff = true
	if github.IsForbidden(err) {
		r.warnf("cannot record GitHub deployments (%s): deploying anyway; grant `deployments: write` to the job, or set the input deployments: false", oneLine(err.Error()))
		return
	}
	r.reportingFailed("GitHub deployment (deploying anyway; no more deployments recorded in this run)", err)
}

// deploymentDescription says what kind of deploy this is.
func deploymentDescription(p *plan, event string) string {
	switch {
	case p.revision != "":
		return "slipway rollback to " + p.revision
	case p.reconcile && event == "schedule":
		return "slipway scheduled reconcile"
	case p.reconcile:
		return "slipway reconcile"
	}
	return "slipway deploy (" + event + ")"
}

// deploymentOutcome maps a deploy's result to the deployment's final
// state: success; failure when something failed; error when slipway did
// not deploy at all (refused, a newer commit runs).
func deploymentOutcome(cd *result.ClusterDeploy) (github.DeploymentState, string) {
	switch {
	case cd == nil:
		return github.DeploymentError, "not deployed"
	case cd.OutOfOrder:
		return github.DeploymentError, "not deployed: the cluster path already runs a newer commit"
	case cd.Failed():
		return github.DeploymentFailure, "deploy failed: see the run"
	}
	n := 0
	for _, k := range cd.Kustomizations {
		for _, c := range k.Changes {
			if c.Action != result.ActionUnchanged && c.Action != result.ActionSkipped {
				n++
			}
		}
	}
	return github.DeploymentSuccess, fmt.Sprintf("deployed: %d object(s) changed", n)
}
