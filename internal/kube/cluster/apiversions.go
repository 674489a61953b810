package cluster

import (
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	"k8s.io/client-go/discovery"
)

// APIVersions returns the API versions and kinds the cluster serves
// ("apps/v1", "apps/v1/Deployment"), as Helm discovers them for
// .Capabilities.APIVersions when it installs: HelmReleases rendered before
// an apply or for a live diff branch as they will when installed. An API
// group whose discovery fails (an aggregated API that is down) is left out,
// as Helm leaves it out.
func (c *Cluster) APIVersions() ([]string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("discovering the cluster's API versions: %w", err)
	}
	vs, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, fmt.Errorf("discovering the cluster's API versions: %w", err)
	}
	return vs, nil
}
