// Package cluster is slipway's connection to one Kubernetes cluster: a
// rest.Config loaded from a kubeconfig (refusing plugins and local files
// in one that came from repository content), and a controller-runtime
// client with a dynamic REST mapper and request counting, plus the few
// read-only questions every verb asks of the cluster (its version, the
// API versions it serves, ConfigMaps and Secrets HelmReleases refer to).
//
// It must not change anything on the cluster nor print; where the
// credentials come from (OIDC, cloud token exchange) is internal/kube/auth's
// business.
package cluster
