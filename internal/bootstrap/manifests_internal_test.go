package bootstrap

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/kube/auth"
)

// The binding is narrowable (--cluster-role) and binds either the
// ServiceAccount or the GitHub identity; no token Secret is ever written.
func TestSystemManifests(t *testing.T) {
	sa := systemManifests(manifestOptions{ClusterPath: "clusters/prod", Auth: auth.ModeKubeconfig})["clusters/prod/slipway-system/deployer.yaml"]
	for _, want := range []string{"kind: ServiceAccount", "name: cluster-admin", "  - kind: ServiceAccount\n    name: slipway-deployer"} {
		if !strings.Contains(sa, want) {
			t.Errorf("kubeconfig deployer.yaml lacks %q:\n%s", want, sa)
		}
	}
	user := auth.GitHubUsername("", "acme/fleet", "prod")
	gh := systemManifests(manifestOptions{ClusterPath: "clusters/prod", Auth: auth.ModeGitHubOIDC, ClusterRole: "slipway-apps", GitHubUser: user})["clusters/prod/slipway-system/deployer.yaml"]
	for _, want := range []string{"name: slipway-apps", "kind: User\n    name: \"github:repo:acme/fleet:environment:prod\""} {
		if !strings.Contains(gh, want) {
			t.Errorf("github-oidc deployer.yaml lacks %q:\n%s", want, gh)
		}
	}
	for name, m := range map[string]string{"kubeconfig": sa, "github-oidc": gh} {
		if strings.Contains(m, "service-account-token") {
			t.Errorf("%s: a token Secret is written", name)
		}
	}
	if strings.Contains(gh, "kind: ServiceAccount") {
		t.Errorf("github-oidc writes a ServiceAccount")
	}
}
