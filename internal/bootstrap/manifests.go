package bootstrap

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/kube/auth"
)

// Names of the deployer's objects. Everything carries deploy.LabelSystem so
// uninstall recognises slipway's own objects among an inventory's members.
const (
	DeployerName = "slipway-deployer"
	// DefaultClusterRole is the ClusterRole the deployer is bound to
	// unless --cluster-role says otherwise.
	DefaultClusterRole = "cluster-admin"
	// DefaultTokenTTL is the lifetime of the deployer's token (auth
	// kubeconfig); bootstrap replaces it once less than half is left.
	DefaultTokenTTL = 7 * 24 * time.Hour
	// SystemDir is the folder under the cluster path holding the manifests.
	SystemDir = "slipway-system"
	// KubeconfigSecret is the GitHub Actions secret holding the deployer's
	// kubeconfig, in the environment named after the cluster.
	KubeconfigSecret = "SLIPWAY_KUBECONFIG"
)

// manifestOptions say what the system manifests bind, and to whom.
type manifestOptions struct {
	ClusterPath string
	// Auth is how the workflow authenticates: auth.ModeKubeconfig binds a
	// ServiceAccount (its short-lived token goes into the environment's
	// kubeconfig); auth.ModeGitHubOIDC binds the GitHub identity of the
	// environment's jobs and no ServiceAccount exists.
	Auth auth.Mode
	// ClusterRole bound to the deployer.
	ClusterRole string
	// GitHubUser is the Kubernetes username of the environment's jobs
	// (auth.GitHubUsername), for auth.ModeGitHubOIDC.
	GitHubUser string
}

// systemManifests returns slipway's system manifests for a cluster path,
// as repository-relative file names and contents. Nothing here runs in
// the cluster: a namespace, the deployer's identity (a ServiceAccount, or
// none with GitHub OIDC) and the binding that lets it deploy. No token
// Secret: a long-lived token that never expires is what this avoids.
//
// The deployer is bound to cluster-admin by default, as Flux binds
// kustomize-controller: a GitOps deployer applies whatever the repository
// holds (CRDs, RBAC, namespaces), and anything narrower breaks the first
// repository that needs more. --cluster-role binds another ClusterRole;
// teams may also edit the binding in their repository, and slipway never
// rewrites a file that exists.
func systemManifests(o manifestOptions) map[string]string {
	dir := path.Join(o.ClusterPath, SystemDir)
	labels := fmt.Sprintf("    %s: %q\n    %s: %s\n", deploy.LabelSystem, "true", deploy.LabelManagedBy, deploy.ManagedByValue)
	header := "# Written by slipway bootstrap. slipway deploys this folder like the rest\n# of the cluster path; `slipway uninstall` removes it.\n"
	ns := deploy.SystemNamespace
	role := o.ClusterRole
	if role == "" {
		role = DefaultClusterRole
	}
	deployer := header + `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ` + DeployerName + `
  namespace: ` + ns + `
  labels:
` + labels + `---
`
	subject := `  - kind: ServiceAccount
    name: ` + DeployerName + `
    namespace: ` + ns + `
`
	if o.Auth == auth.ModeGitHubOIDC {
		deployer = header + "# The deployer is the GitHub Actions jobs of one environment, authenticated\n# by their OIDC token (the API server trusts GitHub's issuer): no token is\n# stored anywhere.\n"
		subject = `  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: ` + strconv.Quote(o.GitHubUser) + `
`
	}
	files := map[string]string{
		path.Join(dir, "namespace.yaml"): header + `apiVersion: v1
kind: Namespace
metadata:
  name: ` + ns + `
  labels:
` + labels,
		path.Join(dir, "deployer.yaml"): deployer + `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ` + DeployerName + `
  labels:
` + labels + `roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ` + role + `
subjects:
` + subject,
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
