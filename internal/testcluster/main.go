package testcluster

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

// Main is the TestMain of a package whose tests share one local cluster:
// it starts the cluster, calls setup with it (to connect clients), runs the
// tests and stops the cluster, returning the exit code. With SkipEnv=1 it
// runs the tests without a cluster: setup gets nil and the reason, which
// the tests pass to t.Skip. what names the tests in messages ("deploy
// tests").
func Main(m *testing.M, what string, setup func(c *Cluster, skipReason string) error) int {
	if reason := SkipReason(); reason != "" {
		if err := setup(nil, reason+": skipping the "+what+", which need a local cluster"); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
			return 1
		}
		return m.Run()
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	var log bytes.Buffer
	c, err := Start(ctx, Options{Log: &log})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: starting the local cluster failed: %v\n%s\n", what, err, log.String())
		fmt.Fprintf(os.Stderr, "(set %s=1 to skip tests that need a local cluster)\n", SkipEnv)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: stopping the local cluster: %v\n", what, err)
		}
	}()
	if err := setup(c, ""); err != nil {
		fmt.Fprintf(os.Stderr, "%s: connecting to the local cluster: %v\n", what, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "%s: local cluster %s ready in %s\n", what, c.Name, time.Since(start).Round(time.Millisecond))
	return m.Run()
}

// SkipReason says why tests needing a cluster are skipped ("" when they
// run): SkipEnv set, or
// go test -short (which then runs every test that needs none). TestMain
// runs before the test flags are parsed, so they are parsed here.
func SkipReason() string {
	if os.Getenv(SkipEnv) == "1" {
		return SkipEnv + "=1"
	}
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return "-short"
	}
	return ""
}
