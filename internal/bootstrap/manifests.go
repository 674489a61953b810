package bootstrap

import (
	"fmt"
	"path"
	"strings"

	"github.com/slipwayhq/slipway/internal/deploy"
)

// Names of the deployer's objects. Everything carries deploy.LabelSystem so
// uninstall recognises slipway's own objects among an inventory's members.
const (
	DeployerName        = "slipway-deployer"
	DeployerTokenSecret = "slipway-deployer-token"
	// SystemDir is the folder under the cluster path holding the manifests.
	SystemDir = "slipway-system"
	// KubeconfigSecret is the GitHub Actions secret holding the deployer's
	// kubeconfig, in the environment named after the cluster.
	KubeconfigSecret = "SLIPWAY_KUBECONFIG"
)

// systemManifests returns slipway's system manifests for a cluster path,
// as repository-relative file names and contents. Nothing here runs in
// the cluster: a namespace, a ServiceAccount, its token Secret and the
// binding that lets it deploy.
//
// The deployer is bound to cluster-admin, as Flux binds kustomize-controller:
// a GitOps deployer applies whatever the repository holds (CRDs, RBAC,
// namespaces), and anything narrower breaks the first repository that
// needs more. Teams that want less edit the binding in their repository;
// slipway never rewrites a file that exists.
func systemManifests(clusterPath string) map[string]string {
	dir := path.Join(clusterPath, SystemDir)
	labels := fmt.Sprintf("    %s: %q\n    %s: %s\n", deploy.LabelSystem, "true", deploy.LabelManagedBy, deploy.ManagedByValue)
	header := "# Written by slipway bootstrap. slipway deploys this folder like the rest\n# of the cluster path; `slipway uninstall` removes it.\n"
	ns := deploy.SystemNamespace
	files := map[string]string{
		path.Join(dir, "namespace.yaml"): header + `apiVersion: v1
kind: Namespace
metadata:
  name: ` + ns + `
  labels:
` + labels,
		path.Join(dir, "deployer.yaml"): header + `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ` + DeployerName + `
  namespace: ` + ns + `
  labels:
` + labels + `---
# A long-lived token for CI: the kubeconfig in the GitHub environment uses it.
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: ` + DeployerTokenSecret + `
  namespace: ` + ns + `
  labels:
` + labels + `  annotations:
    kubernetes.io/service-account.name: ` + DeployerName + `
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ` + DeployerName + `
  labels:
` + labels + `roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: ` + DeployerName + `
    namespace: ` + ns + `
`,
	}
	files[path.Join(dir, "kustomization.yaml")] = header + `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - deployer.yaml
`
	for k, v := range files {
		files[k] = strings.ReplaceAll(v, "\t", "  ")
	}
	return files
}
