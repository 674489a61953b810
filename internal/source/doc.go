// Package source opens the configuration repository slipway reads: a
// worktree on disk or (later) a git revision, as a kustomize filesystem locked
// to the repository root, and finds the cluster paths in it.
//
// It also guards every YAML file read from the repository (size bound,
// syntax, duplicate keys, alias bombs) so that bad input fails with file and
// line before any third-party parser sees it. It must never write to the
// repository or read outside its root.
//
// It fetches other Git repositories (GitFetcher) and decides which
// credentials each fetch may send (HostCredentials, GitAuthFromSecret): a
// credential goes only to the origin it is bound to or to the URL of the
// GitRepository whose secretRef names it, never along a redirect to
// another origin, and never to a URL slipway would not fetch.
//
// AddressPolicy decides which addresses any request caused by repository
// content may connect to (Git here, Helm repositories and OCI registries
// through NetworkOptions.Transport): never the runner's own or its cloud's
// metadata addresses unless the user opts in.
package source
