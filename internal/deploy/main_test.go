package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// The tests of this package share one real local cluster, started once here.
// Every test writes its own repository, with its own cluster path, root
// Kustomization, Kustomization names and namespaces, so tests do not see
// each other's inventories, locks or objects.
var (
	// local is the running cluster; nil when skipped or failed to start.
	local *testcluster.Cluster
	// kube is slipway's connection to it.
	kube *deploy.Cluster
	// skipReason is why local is nil.
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv(testcluster.SkipEnv) == "1" {
		skipReason = testcluster.SkipEnv + "=1: skipping the deploy tests, which need a local cluster"
		return m.Run()
	}
	start := time.Now()
	// The binary TestKilledMidwayThenRerun runs builds meanwhile.
	cli.once.Do(startCLIBuild)
	defer removeCLI()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	var log bytes.Buffer
	c, err := testcluster.Start(ctx, testcluster.Options{Log: &log})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "deploy tests: starting the local cluster failed: %v\n%s\n", err, log.String())
		fmt.Fprintf(os.Stderr, "(set %s=1 to skip tests that need a local cluster)\n", testcluster.SkipEnv)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "deploy tests: stopping the local cluster: %v\n", err)
		}
	}()
	cfg, err := deploy.RESTConfig(deploy.KubeconfigOptions{Path: c.Kubeconfig}, nil)
	if err == nil {
		kube, err = deploy.Connect(cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "deploy tests: connecting to the local cluster: %v\n", err)
		return 1
	}
	local = c
	fmt.Fprintf(os.Stderr, "deploy tests: local cluster %s ready in %s\n", c.Name, time.Since(start).Round(time.Millisecond))
	return m.Run()
}
