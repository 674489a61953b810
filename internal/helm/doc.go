// Package helm renders Flux HelmReleases the way helm-controller does:
// it resolves the chart from its source (HelmRepository over HTTP or OCI,
// GitRepository, OCIRepository), composes the values in Flux's order,
// renders the chart offline with the Helm SDK (client-only install dry-run)
// and applies helm-controller's post-renderers.
//
// Charts and repository indexes are fetched into a cache directory that
// survives runs; indexes are fetched once per Renderer, charts once per
// content. The package never talks to a cluster and never prints; it
// returns result.ReleaseBuild values. It must never put a secret value
// (credentials, values from Secrets) into an error.
package helm
