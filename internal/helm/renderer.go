package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/chart/common"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// DefaultKubeVersion is the Kubernetes version charts are rendered for when
// Options.KubeVersion is empty: the newest slipway embeds schemas for.
const DefaultKubeVersion = "1.36.0"

// maxReleaseNameLength is Helm's limit; helm-controller shortens longer
// names (release.ShortenName) rather than failing.
const maxReleaseNameLength = 53

// Options configure a Renderer.
type Options struct {
	// CacheDir holds indexes and charts between runs (created if missing).
	CacheDir string
	// KubeVersion is the target Kubernetes version for .Capabilities and
	// charts' kubeVersion constraints, e.g. "1.36.5".
	KubeVersion string
	// APIVersions are added to .Capabilities.APIVersions (Helm's defaults
	// stay), as helm template --api-versions: "group/version" or
	// "group/version/Kind". Charts that render a ServiceMonitor only when
	// the cluster serves it need them offline; connected to a cluster, the
	// commands pass what it serves.
	APIVersions []string
	// Repo is this configuration repository: GitRepository sources that
	// point at it are read from it, never fetched.
	Repo *source.Repository
	// Git fetches other Git repositories; nil reports them unavailable.
	Git *source.GitFetcher
	// HTTPClient is used for chart repositories and OCI registries; nil
	// means a client with a timeout. A nil Transport (in either case) is
	// the one Network gives.
	HTTPClient *http.Client
	// Network says which addresses chart repositories and registries may
	// be reached at; the zero value refuses the runner's own and metadata
	// addresses (source.AddressPolicy).
	Network source.NetworkOptions
	// PlainHTTPHosts are OCI registry hosts (host:port) reached over plain
	// HTTP even when the source does not say spec.insecure, e.g. a
	// registry on loopback.
	PlainHTTPHosts []string
	// KustomizeLock, when set, is held around post-renderer kustomize runs
	// so they never overlap with a build that changes kustomize's global
	// OpenAPI schema. nil uses a lock private to the Renderer.
	KustomizeLock sync.Locker
}

// Lookup finds an object of the cluster path's build output (HelmRepository,
// OCIRepository, GitRepository, ConfigMap, Secret — Secrets already
// decrypted). kind is the bare kind, e.g. "Secret".
type Lookup func(kind, namespace, name string) (*unstructured.Unstructured, bool)

// Renderer renders HelmReleases. It is safe for concurrent use: each
// repository index is fetched once per Renderer and each chart is
// downloaded once per cache, however many releases ask for it at once.
type Renderer struct {
	opts  Options
	kube  *common.KubeVersion
	cache *chartCache
	kmu   sync.Locker

	indexes flight[*indexFile]
	// registries remembers registry answers, failures included.
	registries registryMemo

	// head is the checked-out commit of Options.Repo, read once.
	headOnce sync.Once
	head     string
	headErr  error
}

// New returns a Renderer; it creates the cache directory.
func New(opts Options) (*Renderer, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("helm renderer: a cache directory is required")
	}
	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating chart cache: %w", err)
	}
	if opts.KubeVersion == "" {
		opts.KubeVersion = DefaultKubeVersion
	}
	kv, err := common.ParseKubeVersion(opts.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", opts.KubeVersion, err)
	}
	opts.HTTPClient = guardedClient(opts.HTTPClient, opts.Network)
	// A chart repository or registry that redirects elsewhere (a CDN, blob
	// storage) must not take the source's credentials along: net/http
	// alone keeps them for the same host name on another port, and for
	// subdomains.
	opts.HTTPClient = source.WithSafeRedirects(opts.HTTPClient)
	r := &Renderer{opts: opts, kube: kv, cache: &chartCache{dir: opts.CacheDir}, kmu: opts.KustomizeLock}
	if r.kmu == nil {
		r.kmu = &sync.Mutex{}
	}
	return r, nil
}

// guardedClient returns a copy of c (nil: a client with a timeout) whose
// connections obey the network options, unless c brings its own transport.
func guardedClient(c *http.Client, n source.NetworkOptions) *http.Client {
	out := &http.Client{Timeout: 2 * time.Minute}
	if c != nil {
		*out = *c
	}
	if out.Transport == nil {
		out.Transport = n.Transport()
	}
	return out
}

// Render renders one HelmRelease object found at origin. It always returns
// a ReleaseBuild; Err says why it could not be rendered.
func (r *Renderer) Render(ctx context.Context, obj *unstructured.Unstructured, origin result.Origin, lookup Lookup) *result.ReleaseBuild {
	start := time.Now()
	rb := &result.ReleaseBuild{
		Ref:    result.KustomizationRef{Namespace: obj.GetNamespace(), Name: obj.GetName()},
		Origin: origin,
	}
	defer func() { rb.Duration = time.Since(start) }()
	if lookup == nil {
		lookup = func(string, string, string) (*unstructured.Unstructured, bool) { return nil, false }
	}

	hr := &helmv2.HelmRelease{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.UnstructuredContent(), hr); err != nil {
		rb.Err = &SpecError{Reason: "decoding", Err: err}
		return rb
	}
	rb.Spec = hr
	rb.ReleaseName = ShortenReleaseName(hr.GetReleaseName())
	rb.Namespace = hr.GetReleaseNamespace()
	rb.StorageNamespace = hr.GetStorageNamespace()
	rb.Suspended = hr.Spec.Suspend
	for _, d := range hr.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		rb.DependsOn = append(rb.DependsOn, result.KustomizationRef{Namespace: ns, Name: d.Name})
	}

	values, err := composeValues(hr, lookup)
	if err != nil {
		rb.Err = err
		return rb
	}
	rb.Values = values
	rb.ValuesDigest = valuesDigest(values)

	art, err := r.resolveChart(ctx, hr, lookup)
	if err != nil {
		rb.Err = err
		return rb
	}
	rb.Chart = art.ref
	rb.ChartArchive = art.archive

	out, err := r.render(hr, rb.ReleaseName, art, values)
	if err != nil {
		rb.Err = err
		return rb
	}
	for _, o := range out.objects {
		rb.Objects = append(rb.Objects, result.Object{Object: o, Origin: origin})
	}
	for _, o := range out.crds {
		rb.CRDs = append(rb.CRDs, result.Object{Object: o, Origin: origin})
	}
	return rb
}

// ShortenReleaseName mirrors helm-controller's release.ShortenName: a name
// longer than Helm's 53 characters keeps its first 40 characters, a dash
// and the first 12 hex characters of its SHA-256.
func ShortenReleaseName(name string) string {
	if len(name) <= maxReleaseNameLength {
		return name
	}
	const hashLen = 12
	sum := sha256.Sum256([]byte(name))
	return name[:maxReleaseNameLength-hashLen-1] + "-" + hex.EncodeToString(sum[:])[:hashLen]
}

// valuesDigest is the sha256 of the canonical JSON (sorted keys) of the
// composed values; empty values digest as an empty object.
func valuesDigest(values map[string]any) string {
	if values == nil {
		values = map[string]any{}
	}
	data, err := json.Marshal(values)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// flight runs one computation per key and shares its result with every
// concurrent and later caller, for the lifetime of the Renderer.
type flight[T any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[T]
}

type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (f *flight[T]) do(key string, fn func() (T, error)) (T, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall[T]{}
	}
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		<-c.done
		return c.val, c.err
	}
	c := &flightCall[T]{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()
	c.val, c.err = fn()
	close(c.done)
	return c.val, c.err
}
