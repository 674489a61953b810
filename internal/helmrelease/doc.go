// Package helmrelease installs rendered HelmReleases as real Helm releases,
// the way Flux's helm-controller does: Helm's own install, upgrade,
// rollback and uninstall actions with the Secret storage driver in the
// release's storage namespace, so that `helm list`, `helm history` and
// `helm rollback` keep working for users.
//
// Its input is a result.ReleaseBuild (the chart archive and composed values
// produced by internal/helm), its output a result.ReleaseDeploy. It decides
// between install, upgrade and "unchanged" from what Helm stores, runs the
// HelmRelease's remediation (retries, rollback or uninstall) within one
// call, recovers releases left pending by an interrupted run, and reports
// objects of the release that drifted from its manifest.
//
// Where slipway differs from helm-controller, and why:
//   - helm-controller keeps failure counts and release snapshots in the
//     HelmRelease status across reconciliations. slipway has no status
//     object, so the retries of one HelmRelease happen within one Reconcile
//     call, and what was released is recorded in labels of Helm's release
//     Secret (a digest of chart and values, the HelmRelease that owns it).
//   - A negative retries value means "unlimited" in Flux; a CI run must end,
//     so it is capped at MaxUnlimitedRetries.
//   - "Unchanged" also requires the manifest Helm would render now to equal
//     the stored one (server-side dry-run), so a chart whose templates read
//     the cluster (lookup, Capabilities) is upgraded when their answer changes.
//   - Helm tests (spec.test) are not run. Post-renderers (spec.postRenderers,
//     commonMetadata, the origin labels) are internal/helm's PostRenderer,
//     so the release holds the objects that were rendered and validated.
//
// It must not print, and must never log or return values or Secret
// contents: Helm's own logging is discarded, progress goes to Options.Log
// and names only releases, revisions and charts.
package helmrelease
