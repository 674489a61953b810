package bootstrap

import (
	"fmt"
	"path"
	"strings"

	"github.com/slipwayhq/slipway/internal/kube/auth"
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
	// Auth is how the deploy job authenticates; with auth.ModeGitHubOIDC
	// the job gets `id-token: write` and the cluster's address and CA
	// (not secrets) instead of the kubeconfig secret.
	Auth                         auth.Mode
	Audience                     string
	Server, CertificateAuthority string
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
%[8]s    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: %[5]s
        with:
          mode: ${{ inputs.mode || 'deploy' }}
          path: %[6]s
%[7]s          confirm: ${{ inputs.confirm }}
          sops-age-key: ${{ secrets.SOPS_AGE_KEY }}
`, o.ClusterPath, o.Branch, o.ClusterName, q(o.Branch), o.ActionRef, o.ClusterPath, clusterInputs(o), idTokenPermission(o))
	return b.String()
}

// clusterInputs are the deploy step's inputs naming the cluster and its
// credential.
func clusterInputs(o workflowOptions) string {
	if o.Auth != auth.ModeGitHubOIDC {
		return "          kubeconfig: ${{ secrets." + KubeconfigSecret + " }}\n"
	}
	var b strings.Builder
	b.WriteString("          # No secret: the job's GitHub OIDC token is the credential.\n")
	b.WriteString("          auth: github-oidc\n")
	if o.Audience != "" {
		fmt.Fprintf(&b, "          audience: %q\n", o.Audience)
	}
	fmt.Fprintf(&b, "          server: %q\n", o.Server)
	b.WriteString("          certificate-authority: |\n")
	for _, line := range strings.Split(strings.TrimSpace(o.CertificateAuthority), "\n") {
		b.WriteString("            " + line + "\n")
	}
	return b.String()
}

// idTokenPermission lets the deploy job request an OIDC token.
func idTokenPermission(o workflowOptions) string {
	if o.Auth != auth.ModeGitHubOIDC {
		return ""
	}
	return "      id-token: write\n"
}
