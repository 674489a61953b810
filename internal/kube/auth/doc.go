// Package auth turns the action's and the CLI's credential settings into a
// client-go rest.Config: a kubeconfig as kubectl reads it (exec plugins
// included), or a cluster address and CA plus a short-lived token obtained
// from GitHub Actions' OIDC endpoint ([ModeGitHubOIDC]).
//
// It must not print anything, store a token anywhere but in memory, or send
// a token to any host other than the API server it was requested for (the
// runner's token endpoint receives only the runner's own request token).
package auth
