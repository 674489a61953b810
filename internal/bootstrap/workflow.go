package bootstrap

import (
	"fmt"
	"path"
	"strings"
)

// DefaultActionRef is the action the generated workflow uses.
const DefaultActionRef = "slipwayhq/slipway@v1"

// WorkflowPath is where bootstrap writes the workflow of a cluster path.
func WorkflowPath(clusterName string) string {
	return path.Join(".github", "workflows", "slipway-"+clusterName+".yaml")
}

// workflowOptions say what the workflow deploys.
type workflowOptions struct {
	ClusterPath string
	ClusterName string // also the GitHub environment's name
	Branch      string
	ActionRef   string
}

// workflow renders the workflow of one cluster path: deploy on push to the
// branch, diff on pull requests, and a manual dispatch with a mode.
//
// Permissions are the least each job needs: the pull-request job never sees
// the environment (and so never the kubeconfig), which is what makes an
// offline diff of a fork's pull request safe; the deploy job reads the
// environment's secret, and environment protection rules can restrict it
// to the branch.
func workflow(o workflowOptions) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by slipway bootstrap for %[1]s. It deploys %[1]s on every push to
# %[2]s, shows what a pull request would change, and can be run by hand
# (Actions → slipway %[3]s → Run workflow). The deploy job reads the kubeconfig
# from the GitHub environment %[3]s; pull requests never see it.
name: slipway %[3]s

on:
  push:
    branches: [%[4]s]
  pull_request:
    branches: [%[4]s]
  workflow_dispatch:
    inputs:
      mode:
        description: What to run
        type: choice
        options: [deploy, diff, validate, uninstall]
        default: deploy
      confirm:
        description: Type "uninstall" to confirm mode uninstall
        type: string
        default: ""

permissions:
  contents: read

concurrency:
  # Deploys of one cluster path queue instead of overlapping.
  group: slipway-%[3]s-${{ github.event_name == 'pull_request' && github.ref || 'deploy' }}
  cancel-in-progress: false

jobs:
  diff:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      checks: write
      statuses: write
      pull-requests: write
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: %[5]s
        with:
          mode: diff
          path: %[6]s

  deploy:
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-latest
    environment: %[3]s
    permissions:
      contents: read
      checks: write
      statuses: write
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: %[5]s
        with:
          mode: ${{ inputs.mode || 'deploy' }}
          path: %[6]s
          kubeconfig: ${{ secrets.%[7]s }}
          confirm: ${{ inputs.confirm }}
          sops-age-key: ${{ secrets.SOPS_AGE_KEY }}
`, o.ClusterPath, o.Branch, o.ClusterName, q(o.Branch), o.ActionRef, o.ClusterPath, KubeconfigSecret)
	return b.String()
}
