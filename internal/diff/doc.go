// Package diff compares what two revisions of a configuration repository
// build to, cluster path by cluster path and Kustomization by
// Kustomization: objects added, removed, changed (a unified YAML diff with
// the noise removed), moved between Kustomizations or HelmReleases, and
// whole Kustomizations, HelmReleases and cluster paths that appear or
// vanish. It also answers the plan question: which cluster paths' output
// changes between two revisions. RunLive compares a build with a
// connected cluster instead (server-side dry-run through internal/deploy,
// and drift against a base revision); it never changes the cluster, and
// connecting is the front end's part.
//
// Secret values never enter a diff: Secrets are compared key by key
// through salted hashes (a fresh random salt per comparison) and rendered
// redacted, and values that left Secrets (decrypted or substituted) are
// masked wherever they would appear. The package returns result values and
// never prints; internal/report renders them.
package diff
