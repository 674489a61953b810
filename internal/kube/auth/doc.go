// Package auth turns the action's and the CLI's credential settings into a
// client-go rest.Config: a kubeconfig as kubectl reads it (exec plugins
// included), or a cluster address and CA plus a short-lived token derived
// from the job's GitHub Actions OIDC token — sent as is to an API server
// that trusts GitHub's issuer ([ModeGitHubOIDC]), or exchanged for an EKS
// token ([ModeEKS], AWS STS), a GKE access token ([ModeGKE], Google
// workload identity federation) or an AKS token ([ModeAKS], Entra ID).
// Tokens are renewed before they expire, and the API server is asked once
// who they make us, so that a refusal is reported before any work starts.
//
// It must not print anything, store a token anywhere but in memory, or
// send a token to any host other than the one it is meant for: the GitHub
// token to the API server or the cloud's token exchange, the cluster token
// to the API server, the runner's request token to the runner.
package auth
