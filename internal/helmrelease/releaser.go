package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/slipwayhq/slipway/internal/result"
)

const (
	// DefaultTimeout is helm-controller's default spec.timeout.
	DefaultTimeout = 5 * time.Minute

	// MaxUnlimitedRetries caps a negative ("unlimited") remediation retries
	// value: Flux retries forever across reconciliations, a CI run must end.
	MaxUnlimitedRetries = 3
)

// Options tune a Releaser.
type Options struct {
	// Timeout is the per-action timeout when the HelmRelease sets neither an
	// action timeout nor spec.timeout; 0 means DefaultTimeout.
	Timeout time.Duration
	// Wait makes install, upgrade and rollback wait for the release's
	// resources with Helm's kstatus-based waiter, unless the HelmRelease
	// disables waiting for that action. Without it only hooks are awaited.
	Wait bool
	// Log receives progress lines. They name releases, revisions and charts,
	// never values. Nil discards them.
	Log func(format string, args ...any)
}

// Releaser runs Helm actions for HelmReleases against one cluster. It is
// safe for concurrent use by several HelmReleases.
type Releaser struct {
	opts   Options
	getter *restGetter
	// clients is shared by every storage driver: one clientset, one set of
	// HTTP connections.
	clients kubernetes.Interface
}

// New returns a Releaser for the cluster cfg points at.
func New(cfg *rest.Config, opts Options) (*Releaser, error) {
	if cfg == nil {
		return nil, errors.New("helm releases: no cluster configuration")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	cfg = rest.CopyConfig(cfg)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("helm releases: discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	clients, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("helm releases: client: %w", err)
	}
	return &Releaser{
		opts: opts,
		getter: &restGetter{
			cfg:       cfg,
			discovery: cached,
			mapper:    restmapper.NewDeferredDiscoveryRESTMapper(cached),
		},
		clients: clients,
	}, nil
}

// actionConfig is a Helm action configuration for one HelmRelease: releases
// stored as Secrets in storageNS (as helm-controller stores them), objects
// without a namespace going to releaseNS. It is built per call, as
// helm-controller builds one per reconciliation, because Helm's
// Configuration caches cluster capabilities and is not meant to be shared
// by concurrent actions; the expensive parts (clients, discovery, REST
// mapping) are shared.
func (r *Releaser) actionConfig(storageNS, releaseNS string) *action.Configuration {
	// Helm's logs can quote rendered manifests and values; never pass them on.
	quiet := slog.DiscardHandler
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(quiet))
	getter := r.getter.forNamespace(releaseNS)
	kc := kube.New(getter)
	kc.Namespace = releaseNS
	kc.SetLogger(quiet)
	d := driver.NewSecrets(r.clients.CoreV1().Secrets(storageNS))
	d.SetLogger(quiet)
	cfg.RESTClientGetter = getter
	cfg.KubeClient = kc
	cfg.Releases = storage.Init(d)
	cfg.HookOutputFunc = func(_, _, _ string) io.Writer { return io.Discard }
	return cfg
}

// restGetter hands Helm the cluster connection slipway already has, instead
// of a kubeconfig file: Helm's kube client and kubectl's factory ask for it
// through genericclioptions.RESTClientGetter.
type restGetter struct {
	cfg       *rest.Config
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
	namespace string
}

var _ genericclioptions.RESTClientGetter = (*restGetter)(nil)

func (g *restGetter) forNamespace(ns string) *restGetter {
	c := *g
	c.namespace = ns
	return &c
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader only carries the namespace: the connection itself
// comes from ToRESTConfig.
func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.namespace},
	})
}

// loadChart reads the packaged chart internal/helm rendered, so that exactly
// that chart is released.
func loadChart(rb *result.ReleaseBuild) (*chart.Chart, error) {
	if rb.ChartArchive == "" {
		return nil, &ReleaseError{Ref: rb.Ref, Op: "loading chart", Err: ErrNoChart}
	}
	ch, err := loader.Load(rb.ChartArchive)
	if err != nil {
		return nil, &ReleaseError{Ref: rb.Ref, Op: "loading chart " + rb.Chart.Name, Err: err}
	}
	return ch, nil
}

// spec returns the HelmRelease, or an empty one for a build that carries
// none, so that every option falls back to helm-controller's defaults.
func spec(rb *result.ReleaseBuild) *helmv2.HelmRelease {
	if rb.Spec != nil {
		return rb.Spec
	}
	hr := &helmv2.HelmRelease{}
	hr.Name, hr.Namespace = rb.Ref.Name, rb.Ref.Namespace
	return hr
}

// timeouts resolves the timeout of each action as helm-controller does:
// the action's own timeout, then spec.timeout, then Options.Timeout.
type timeouts struct {
	install, upgrade, rollback, uninstall time.Duration
}

func (r *Releaser) timeoutsFor(hr *helmv2.HelmRelease) timeouts {
	def := r.opts.Timeout
	if hr.Spec.Timeout != nil && hr.Spec.Timeout.Duration > 0 {
		def = hr.Spec.Timeout.Duration
	}
	get := func(d *metav1.Duration) time.Duration {
		if d != nil && d.Duration > 0 {
			return d.Duration
		}
		return def
	}
	return timeouts{
		install:   get(hr.GetInstall().Timeout),
		upgrade:   get(hr.GetUpgrade().Timeout),
		rollback:  get(hr.GetRollback().Timeout),
		uninstall: get(hr.GetUninstall().Timeout),
	}
}

// waitStrategy maps Options.Wait and an action's disableWait onto Helm's
// waiters: kstatus (helm-controller's default "poller"), or hooks only.
func (r *Releaser) waitStrategy(disableWait bool) kube.WaitStrategy {
	if r.opts.Wait && !disableWait {
		return kube.StatusWatcherStrategy
	}
	return kube.HookOnlyStrategy
}

// waitOptions bind Helm's waiters to ctx, which is how actions without a
// context parameter (rollback, uninstall) still stop when ctx ends.
func waitOptions(ctx context.Context) []kube.WaitOption {
	return []kube.WaitOption{kube.WithWaitContext(ctx)}
}
