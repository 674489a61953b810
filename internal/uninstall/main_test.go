package uninstall_test

import (
	"os"
	"testing"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// The cluster tests of this package share one real local cluster, started
// once here. Every test writes its own repository with its own cluster
// path, Kustomization names and namespaces (deploytest.Env), so tests do
// not see each other's inventories, locks or objects.
var (
	// local is the running cluster; nil when skipped or failed to start.
	local *testcluster.Cluster
	// kube is slipway's connection to it.
	kube *cluster.Cluster
	// skipReason is why local is nil.
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, "uninstall tests", func(c *testcluster.Cluster, reason string) error {
		if c == nil {
			skipReason = reason
			return nil
		}
		var err error
		if kube, err = c.Connect(); err != nil {
			return err
		}
		local = c
		return nil
	}))
}
