package bootstrap_test

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

// One real local cluster for the package. The bootstrap tests remove
// slipway-system as a whole, so they run one after another, never in
// parallel.
var (
	local      *testcluster.Cluster
	admin      *deploy.Cluster
	skipReason string
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	if os.Getenv(testcluster.SkipEnv) == "1" {
		skipReason = testcluster.SkipEnv + "=1: skipping the bootstrap tests, which need a local cluster"
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	var log bytes.Buffer
	c, err := testcluster.Start(ctx, testcluster.Options{Log: &log})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bootstrap tests: starting the local cluster failed: %v\n%s\n", err, log.String())
		return 1
	}
	defer func() { _ = c.Stop() }()
	cfg, err := deploy.RESTConfig(deploy.KubeconfigOptions{Path: c.Kubeconfig}, nil)
	if err == nil {
		admin, err = deploy.Connect(cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bootstrap tests: connecting: %v\n", err)
		return 1
	}
	local = c
	return m.Run()
}
