package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v84/github"
)

// DeploymentState is a deployment status's state.
type DeploymentState string

// Deployment states slipway sets. GitHub marks a successful deployment's
// predecessors in the same environment inactive by itself (auto_inactive
// defaults to true for non-production environments).
const (
	DeploymentInProgress DeploymentState = "in_progress"
	DeploymentSuccess    DeploymentState = "success"
	DeploymentFailure    DeploymentState = "failure"
	DeploymentError      DeploymentState = "error"
)

// Deployment asks GitHub to record one deploy of a commit.
type Deployment struct {
	// Commit is the full SHA deployed.
	Commit string
	// Environment names where (the cluster path, or its mapped name).
	Environment string
	Description string
}

// DeploymentStatus is one state of a deployment.
type DeploymentStatus struct {
	State       DeploymentState
	Description string
	// LogURL is the workflow run; EnvironmentURL is optional.
	LogURL, EnvironmentURL string
}

// CreateDeployment records a deployment and returns its ID. slipway has
// already decided to deploy: auto_merge is off (GitHub would otherwise
// merge the default branch into the ref) and required_contexts is empty
// (GitHub would otherwise refuse while slipway's own checks are still in
// progress on the commit).
func (c *Client) CreateDeployment(ctx context.Context, d Deployment) (int64, error) {
	req := &gh.DeploymentRequest{
		Ref:                  gh.Ptr(d.Commit),
		Task:                 gh.Ptr("deploy"),
		AutoMerge:            gh.Ptr(false),
		RequiredContexts:     &[]string{},
		Environment:          gh.Ptr(d.Environment),
		Description:          gh.Ptr(Truncate(d.Description, MaxDeploymentDescription)),
		TransientEnvironment: gh.Ptr(false),
	}
	var id int64
	err := c.call(ctx, fmt.Sprintf("creating deployment of %s to %s", d.Commit, d.Environment), func() (*gh.Response, error) {
		dep, resp, err := c.gh.Repositories.CreateDeployment(ctx, c.owner, c.repo, req)
		id = dep.GetID()
		return resp, err
	})
	return id, err
}

// CreateDeploymentStatus adds a status to deployment id.
func (c *Client) CreateDeploymentStatus(ctx context.Context, id int64, s DeploymentStatus) error {
	req := &gh.DeploymentStatusRequest{
		State:       gh.Ptr(string(s.State)),
		Description: gh.Ptr(Truncate(s.Description, MaxDeploymentDescription)),
	}
	if s.LogURL != "" {
		req.LogURL = gh.Ptr(s.LogURL)
	}
	if s.EnvironmentURL != "" {
		req.EnvironmentURL = gh.Ptr(s.EnvironmentURL)
	}
	return c.call(ctx, fmt.Sprintf("setting deployment %d %s", id, s.State), func() (*gh.Response, error) {
		_, resp, err := c.gh.Repositories.CreateDeploymentStatus(ctx, c.owner, c.repo, id, req)
		return resp, err
	})
}
