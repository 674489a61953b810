package bootstrap

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-github/v84/github"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/discovery"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/kube/auth"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// MinKubernetesVersion is the oldest Kubernetes slipway supports: the
// oldest minor the upstream project still patched when this client-go
// (v0.36) was released, less the skew client-go tolerates.
const MinKubernetesVersion = "1.32.0"

// Check is one pre-flight check's outcome.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// Line renders a check as users know it from `flux check --pre`.
func (c Check) Line() string {
	mark := "✔"
	if !c.OK {
		mark = "✗"
	}
	return fmt.Sprintf("%s %s: %s", mark, c.Name, c.Message)
}

// CheckOptions say what to check.
type CheckOptions struct {
	// Cluster to check; nil skips the cluster checks.
	Cluster *cluster.Cluster
	// GitHub client and the repository bootstrap would use; nil skips the
	// GitHub checks.
	GitHub            *github.Client
	Owner, Repository string
	Personal          bool
	// Auth and ClusterRole are bootstrap's (Options); they decide which
	// permissions the cluster checks ask for.
	Auth        auth.Mode
	ClusterRole string
}

// access is one permission bootstrap needs, asked of the API server with a
// SelfSubjectAccessReview.
type access struct {
	verb, group, resource, namespace, name string
	subresource                            string
}

func (a access) String() string {
	r := a.resource
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.group != "" {
		r += "." + a.group
	}
	if a.name != "" {
		r += "/" + a.name
	}
	if a.namespace != "" {
		return fmt.Sprintf("%s %s in %s", a.verb, r, a.namespace)
	}
	return a.verb + " " + r
}

// bootstrapAccess is what applying the system manifests and, with auth
// kubeconfig, requesting the deployer's token takes. Binding a ClusterRole
// needs the bind verb on it (or every permission it grants).
func bootstrapAccess(mode auth.Mode, clusterRole string) []access {
	if clusterRole == "" {
		clusterRole = DefaultClusterRole
	}
	out := []access{
		{verb: "create", resource: "namespaces"},
		{verb: "create", resource: "configmaps", namespace: deploy.SystemNamespace},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: deploy.SystemNamespace},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
		{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: clusterRole},
	}
	if mode != auth.ModeGitHubOIDC {
		out = append(out,
			access{verb: "create", resource: "serviceaccounts", namespace: deploy.SystemNamespace},
			access{verb: "patch", resource: "serviceaccounts", namespace: deploy.SystemNamespace},
			access{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: deploy.SystemNamespace, name: DeployerName},
		)
	}
	return out
}

// Pre runs the pre-flight checks: the cluster is reachable and recent
// enough, the current identity may do what bootstrap does, and the GitHub
// token is valid and scoped for it.
func Pre(ctx context.Context, o CheckOptions) []Check {
	var out []Check
	if o.Cluster != nil {
		out = append(out, clusterChecks(ctx, o.Cluster, bootstrapAccess(o.Auth, o.ClusterRole))...)
	}
	if o.GitHub != nil {
		out = append(out, githubChecks(ctx, o)...)
	}
	return out
}

// Passed reports whether every check passed.
func Passed(cs []Check) bool {
	for _, c := range cs {
		if !c.OK {
			return false
		}
	}
	return true
}

func clusterChecks(ctx context.Context, c *cluster.Cluster, needed []access) []Check {
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return []Check{{Name: "cluster", Message: err.Error()}}
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return []Check{{Name: "cluster", Message: fmt.Sprintf("%s is not reachable: %v", c.Config.Host, err)}}
	}
	out := []Check{{Name: "cluster", OK: true, Message: fmt.Sprintf("%s reachable", c.Config.Host)}}
	v, err := semver.NewVersion(strings.TrimPrefix(info.GitVersion, "v"))
	switch {
	case err != nil:
		out = append(out, Check{Name: "kubernetes", Message: fmt.Sprintf("cannot read the version %q: %v", info.GitVersion, err)})
	case v.LessThan(semver.MustParse(MinKubernetesVersion)):
		out = append(out, Check{Name: "kubernetes", Message: fmt.Sprintf("%s is older than the oldest supported, %s", info.GitVersion, MinKubernetesVersion)})
	default:
		out = append(out, Check{Name: "kubernetes", OK: true, Message: fmt.Sprintf("%s >= %s", info.GitVersion, MinKubernetesVersion)})
	}
	var denied []string
	for _, a := range needed {
		r := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace, Name: a.name},
		}}
		if err := c.Client.Create(ctx, r); err != nil {
			return append(out, Check{Name: "permissions", Message: fmt.Sprintf("asking whether the current identity may %s: %v", a, err)})
		}
		if !r.Status.Allowed {
			denied = append(denied, a.String())
		}
	}
	if len(denied) > 0 {
		out = append(out, Check{Name: "permissions", Message: "the current identity may not " + strings.Join(denied, "; ")})
	} else {
		out = append(out, Check{Name: "permissions", OK: true, Message: fmt.Sprintf("the current identity may do all %d things bootstrap does", len(needed))})
	}
	return out
}

// githubChecks validates the token and its scopes. Classic tokens list
// their scopes in X-OAuth-Scopes; fine-grained tokens and GITHUB_TOKEN do
// not, so for them the repository's permissions answer instead.
func githubChecks(ctx context.Context, o CheckOptions) []Check {
	user, resp, err := o.GitHub.Users.Get(ctx, "")
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return []Check{{Name: "github token", Message: "GitHub refused the token (401): it is wrong or expired"}}
		}
		return []Check{{Name: "github token", Message: fmt.Sprintf("asking GitHub who the token belongs to: %v", err)}}
	}
	out := []Check{{Name: "github token", OK: true, Message: "valid, for " + user.GetLogin()}}
	if o.Owner == "" || o.Repository == "" {
		return out
	}
	scopes := resp.Header.Get("X-OAuth-Scopes")
	repo, rresp, err := o.GitHub.Repositories.Get(ctx, o.Owner, o.Repository)
	switch {
	case err == nil:
		p := repo.GetPermissions()
		if p.GetAdmin() {
			out = append(out, Check{Name: "github repository", OK: true, Message: fmt.Sprintf("%s exists; the token may push and manage its environments and secrets", repo.GetFullName())})
		} else {
			out = append(out, Check{Name: "github repository", Message: fmt.Sprintf("%s exists but the token lacks admin rights on it: bootstrap creates an environment and its secret, which needs them", repo.GetFullName())})
		}
	case rresp != nil && rresp.StatusCode == http.StatusNotFound:
		if scopes != "" && !hasScope(scopes, "repo") {
			out = append(out, Check{Name: "github repository", Message: fmt.Sprintf("%s/%s does not exist and the token's scopes (%s) do not include repo, needed to create it", o.Owner, o.Repository, scopes)})
		} else {
			out = append(out, Check{Name: "github repository", OK: true, Message: fmt.Sprintf("%s/%s does not exist yet; bootstrap will create it", o.Owner, o.Repository)})
		}
	default:
		out = append(out, Check{Name: "github repository", Message: fmt.Sprintf("reading %s/%s: %v", o.Owner, o.Repository, err)})
	}
	return out
}

func hasScope(scopes, want string) bool {
	for _, s := range strings.Split(scopes, ",") {
		if strings.TrimSpace(s) == want {
			return true
		}
	}
	return false
}
