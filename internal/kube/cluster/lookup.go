package cluster

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServerVersion returns the cluster's Kubernetes version (e.g. "v1.36.5"),
// the version HelmReleases are rendered for when deploying to it.
func (c *Cluster) ServerVersion() (string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return "", fmt.Errorf("reading the cluster's version: %w", err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("reading the cluster's version: %w", err)
	}
	return v.GitVersion, nil
}

// ObjectLookup reads ConfigMaps and Secrets from the cluster: what a
// HelmRelease refers to (valuesFrom, a chart source's secretRef) that the
// repository does not hold, found where helm-controller finds it. Any
// other kind, a missing object or an error reading it (no RBAC to read
// Secrets, say) is "not found": the release then fails to render with
// the reference it lacks, never with what the API server answered.
//
// Answers are remembered: rendering and masking ask for the same object,
// and so do the releases sharing it; one read each is enough for a run.
func (c *Cluster) ObjectLookup(ctx context.Context) func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
	var mu sync.Mutex
	seen := map[string]*unstructured.Unstructured{}
	return func(kind, namespace, name string) (*unstructured.Unstructured, bool) {
		if kind != "ConfigMap" && kind != "Secret" {
			return nil, false
		}
		key := kind + "/" + namespace + "/" + name
		mu.Lock()
		defer mu.Unlock()
		if u, ok := seen[key]; ok {
			return u, u != nil
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
			u = nil
		} else {
			// Only what rendering reads: no managed fields in memory.
			u.SetManagedFields(nil)
		}
		seen[key] = u
		return u, u != nil
	}
}
