// Package testcluster is test infrastructure: it starts throw-away local
// Kubernetes clusters for integration tests. It is not part of the product
// and must only be imported from _test.go files.
//
// A cluster is a real control plane — etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, built from Go modules by
// hack/cluster/build.sh — running as local processes, plus a kwok controller
// that simulates nodes and the pods scheduled on them. Deployments roll out,
// pods report Running, namespaces terminate, RBAC and admission are on; no
// container runtime and no download other than Go modules is involved.
//
// Typical use, one cluster per test package:
//
//	func TestMain(m *testing.M) {
//		c, err := testcluster.Start(context.Background(), testcluster.Options{})
//		if err != nil { ... }
//		kubeconfig = c.Kubeconfig
//		code := m.Run()
//		_ = c.Stop()
//		os.Exit(code)
//	}
//
// or per test with [ForTest], which also honours SLIPWAY_SKIP_CLUSTER=1.
//
// The first use builds the binaries: about 15-20 minutes of CPU on a 2-core
// machine, more than go test's default 10-minute -timeout, so run
// `make cluster-bin` (hack/cluster/build.sh) first or pass -timeout 30m.
// Later uses find them ready, and a cluster starts in about 7 seconds. Binaries and
// cluster state live under $HOME/.cache/slipway unless SLIPWAY_CLUSTER_BIN /
// SLIPWAY_CLUSTER_STATE say otherwise. Clusters left behind by a test process
// that died without calling Stop are removed by the next Start.
//
// [Cluster.KillAPIServer] and [Cluster.Restart] let a test see what a crash
// of the API server does to a client in the middle of its work.
//
// For controller-runtime envtest, [EnvtestAssets] returns a folder holding
// kube-apiserver and etcd, to use as KUBEBUILDER_ASSETS.
//
// The package uses only the standard library, so it adds nothing to go.mod.
package testcluster
