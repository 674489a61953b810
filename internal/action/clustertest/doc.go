// Package clustertest holds the end-to-end tests of `slipway action` that
// deploy to a real local cluster. They live apart from the action package
// so its other tests never wait for a cluster to start; set
// SLIPWAY_SKIP_CLUSTER=1 to skip them.
package clustertest
