// Package reconcile is the engine of `slipway reconcile` and of the
// action's scheduled reconcile and drift check: continuous GitOps without a
// controller. For each cluster path it reads the deploy record the cluster
// keeps (internal/deploy's Record), picks the commit to reconcile to (the
// recorded one, or the checkout's when asked), builds that commit from the
// repository's Git objects, and redeploys it with the usual safety (lock,
// validation gating, prune safety) — or, drift only, compares it with the
// cluster and changes nothing.
//
// It returns a result.Reconcile and never prints: the CLI and the action
// render it (internal/report). It knows nothing of GitHub: check runs,
// deployments and drift issues are the action's.
package reconcile
