// Package source opens the configuration repository slipway reads: a
// worktree on disk or (later) a git revision, as a kustomize filesystem locked
// to the repository root, and finds the cluster paths in it.
//
// It also guards every YAML file read from the repository (size bound,
// syntax, duplicate keys, alias bombs) so that bad input fails with file and
// line before any third-party parser sees it. It must never write to the
// repository or read outside its root.
package source
