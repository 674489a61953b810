// Package deploy applies built cluster paths to a cluster the way Flux's
// kustomize-controller does — staged server-side apply with field manager
// "slipway", prune from an inventory, health checks with kstatus — and adds
// what a CI tool needs on top: an ApplySet-compatible inventory recorded
// before anything is applied, a Lease so overlapping runs queue, and safety
// refusals (empty builds, vanished Kustomizations, foreign owners).
// ReadStatus reads back what deploys left (deploy records, inventories,
// the health of their members now) with get and list only.
//
// It never prints: progress goes to an Observer (ProgressLog is the one
// both front ends use, writing where they say), results come back as
// result.ClusterDeploy values.
package deploy
