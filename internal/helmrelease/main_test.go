package helmrelease_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/slipwayhq/slipway/internal/testcluster"
)

// The tests of this package share one real local cluster, started once here.
// Every test uses its own namespace and release names.
var (
	// kubeconfig is the path of the running cluster's kubeconfig; "" when
	// the cluster is skipped.
	kubeconfig string
	restConfig *rest.Config
	clientset  *kubernetes.Clientset
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv(testcluster.SkipEnv) == "1" {
		skipReason = testcluster.SkipEnv + "=1: skipping the Helm release tests, which need a local cluster"
		return m.Run()
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	var log bytes.Buffer
	c, err := testcluster.Start(ctx, testcluster.Options{Log: &log})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "helmrelease tests: starting the local cluster failed: %v\n%s\n", err, log.String())
		fmt.Fprintf(os.Stderr, "(set %s=1 to skip tests that need a local cluster)\n", testcluster.SkipEnv)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "helmrelease tests: stopping the local cluster: %v\n", err)
		}
	}()
	restConfig, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err == nil {
		clientset, err = kubernetes.NewForConfig(restConfig)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "helmrelease tests: connecting to the local cluster: %v\n", err)
		return 1
	}
	kubeconfig = c.Kubeconfig
	fmt.Fprintf(os.Stderr, "helmrelease tests: local cluster %s ready in %s\n", c.Name, time.Since(start).Round(time.Millisecond))
	return m.Run()
}

// needCluster skips a test when no cluster runs.
func needCluster(t *testing.T) {
	t.Helper()
	if kubeconfig == "" {
		t.Skip(skipReason)
	}
}
