package cluster

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// KubeconfigOptions say where the cluster credentials come from.
type KubeconfigOptions struct {
	// Path of a kubeconfig file; "" uses $KUBECONFIG, then ~/.kube/config.
	Path string
	// Content is a kubeconfig given as text (a CI secret); it wins over Path.
	Content string
	// Context overrides the current context.
	Context string
	// Untrusted marks a kubeconfig that came from repository content: exec
	// and auth-provider plugins, and file references, are refused
	// (CVE-2022-24817).
	Untrusted bool
}

// ErrUnsafeKubeconfig is returned for an untrusted kubeconfig that would run
// a program or read a local file.
var ErrUnsafeKubeconfig = errors.New("kubeconfig from repository content may not use exec or auth-provider plugins or local files")

// RESTConfig loads a rest.Config.
func RESTConfig(o KubeconfigOptions, getenv func(string) string) (*rest.Config, error) {
	cc, err := clientConfig(o, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.UserAgent = "slipway"
	// No client-side rate limit: a deploy is a burst of small requests, and
	// the API server's own priority and fairness protects it.
	cfg.QPS = -1
	return cfg, nil
}

// CurrentContext returns the name of the context the options select.
func CurrentContext(o KubeconfigOptions, getenv func(string) string) (string, error) {
	if o.Context != "" {
		return o.Context, nil
	}
	cc, err := clientConfig(o, getenv)
	if err != nil {
		return "", err
	}
	raw, err := cc.RawConfig()
	if err != nil {
		return "", fmt.Errorf("loading kubeconfig: %w", err)
	}
	return raw.CurrentContext, nil
}

func clientConfig(o KubeconfigOptions, getenv func(string) string) (clientcmd.ClientConfig, error) {
	var cc clientcmd.ClientConfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	if o.Content != "" {
		raw, err := clientcmd.Load([]byte(o.Content))
		if err != nil {
			return nil, fmt.Errorf("parsing kubeconfig content: %w", err)
		}
		if o.Untrusted {
			if err := checkUntrusted(raw); err != nil {
				return nil, err
			}
		}
		cc = clientcmd.NewDefaultClientConfig(*raw, overrides)
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Path
		if o.Path == "" && getenv != nil && getenv("KUBECONFIG") != "" {
			rules.Precedence = filepath.SplitList(getenv("KUBECONFIG"))
		}
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	}
	return cc, nil
}

func checkUntrusted(c *clientcmdapi.Config) error {
	for name, a := range c.AuthInfos {
		if a.Exec != nil || a.AuthProvider != nil || a.TokenFile != "" || a.ClientCertificate != "" || a.ClientKey != "" {
			return fmt.Errorf("user %q: %w", name, ErrUnsafeKubeconfig)
		}
	}
	for name, cl := range c.Clusters {
		if cl.CertificateAuthority != "" {
			return fmt.Errorf("cluster %q: %w", name, ErrUnsafeKubeconfig)
		}
	}
	return nil
}

// requestCounter counts API requests for the benchmarks and the report.
type requestCounter struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (r requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	r.n.Add(1)
	return r.next.RoundTrip(req)
}

// Cluster is a connection to one cluster.
type Cluster struct {
	Client   client.Client
	Config   *rest.Config
	requests *atomic.Int64
}

// Requests returns how many API requests were made so far.
func (c *Cluster) Requests() int64 { return c.requests.Load() }

// Connect builds a controller-runtime client with a dynamic REST mapper (CRDs
// applied during the run are found) and request counting.
func Connect(cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	n := &atomic.Int64{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return requestCounter{next: rt, n: n} })
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{HTTPClient: httpClient, Scheme: scheme, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	return &Cluster{Client: c, Config: cfg, requests: n}, nil
}
