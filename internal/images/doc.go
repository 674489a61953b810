// Package images lists the container images a build deploys — per cluster
// path, Kustomization and HelmRelease — and what changes in that list
// between two builds (added, removed, updated: the same repository at
// another tag or digest).
//
// It reads result values only: it never builds, fetches or prints, and it
// never contacts a registry (an image reference is compared as written).
package images
