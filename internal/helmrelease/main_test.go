package helmrelease_test

import (
	"os"
	"testing"

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
	os.Exit(testcluster.Main(m, "Helm release tests", func(c *testcluster.Cluster, reason string) error {
		if c == nil {
			skipReason = reason
			return nil
		}
		var err error
		if restConfig, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
			return err
		}
		if clientset, err = kubernetes.NewForConfig(restConfig); err != nil {
			return err
		}
		kubeconfig = c.Kubeconfig
		return nil
	}))
}

// needCluster skips a test when no cluster runs.
func needCluster(t *testing.T) {
	t.Helper()
	if kubeconfig == "" {
		t.Skip(skipReason)
	}
}
