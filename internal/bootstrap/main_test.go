package bootstrap_test

import (
	"os"
	"testing"

	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// One real local cluster for the package. The bootstrap tests remove
// slipway-system as a whole, so they run one after another, never in
// parallel.
var (
	local      *testcluster.Cluster
	admin      *cluster.Cluster
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, "bootstrap tests", func(c *testcluster.Cluster, reason string) error {
		if c == nil {
			skipReason = reason
			return nil
		}
		var err error
		if admin, err = c.Connect(); err != nil {
			return err
		}
		local = c
		return nil
	}))
}
