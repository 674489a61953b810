// Package bootstrap sets a cluster and its configuration repository up for
// slipway in one command, in the spirit of `flux bootstrap github`: the
// repository exists and holds the cluster path, slipway's system manifests
// and a workflow; the cluster has the deployer's ServiceAccount and RBAC;
// the repository has a GitHub environment whose secret is a kubeconfig for
// that ServiceAccount. Every step is idempotent, so running it again changes
// nothing and says so.
//
// It also holds the pre-flight checks (`slipway check --pre`).
package bootstrap
