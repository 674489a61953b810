package helm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/slipwayhq/slipway/internal/result"
)

// maxIndexSize bounds a repository index, as source-controller does
// (its default is 50 MiB).
const maxIndexSize = 50 << 20

type indexFile struct {
	*repo.IndexFile
}

// helmRepositoryChart resolves a chart from a HelmRepository: an HTTP
// repository with an index.yaml, or `type: oci`.
func (r *Renderer) helmRepositoryChart(ctx context.Context, ns, name, chartName, constraint string, lookup Lookup) (*chartArtifact, error) {
	hrepo := &sourcev1.HelmRepository{}
	if err := getSource(lookup, sourcev1.HelmRepositoryKind, ns, name, hrepo); err != nil {
		return nil, err
	}
	var secretName string
	if hrepo.Spec.SecretRef != nil {
		secretName = hrepo.Spec.SecretRef.Name
	}
	creds, err := secretCredentials(lookup, sourcev1.HelmRepositoryKind, ns, name, secretName)
	if err != nil {
		return nil, err
	}
	hr := &helmRepoFetch{r: r, hrepo: hrepo, creds: creds, chartName: chartName, constraint: constraint,
		srcErr: func(u string, status int, reason string, err error) error {
			return &SourceError{Kind: sourcev1.HelmRepositoryKind, Namespace: ns, Name: name, URL: u, StatusCode: status, Reason: reason, Err: err}
		}}
	if hrepo.Spec.Type == sourcev1.HelmRepositoryTypeOCI || strings.HasPrefix(hrepo.Spec.URL, "oci://") {
		return hr.fromOCI(ctx)
	}
	return hr.fromIndex(ctx)
}

// helmRepoFetch is the resolution of one chart of one HelmRepository.
type helmRepoFetch struct {
	r                     *Renderer
	hrepo                 *sourcev1.HelmRepository
	creds                 credentials
	chartName, constraint string
	srcErr                func(u string, status int, reason string, err error) error
}

// fromOCI resolves the chart in an OCI registry: the constraint's tag,
// or the newest listed tag that meets it.
func (hr *helmRepoFetch) fromOCI(ctx context.Context) (*chartArtifact, error) {
	base := strings.TrimRight(hr.hrepo.Spec.URL, "/")
	if !strings.HasPrefix(base, "oci://") {
		return nil, hr.srcErr(hr.hrepo.Spec.URL, 0, "a HelmRepository of type oci needs an oci:// URL", nil)
	}
	reg := hr.r.registry(ociHost(base), hr.hrepo.Spec.Insecure, hr.creds)
	ref := strings.TrimPrefix(base, "oci://") + "/" + hr.chartName
	tag := hr.constraint
	if _, err := parseVersion(hr.constraint); err != nil {
		tags, err := reg.Tags(ref)
		if err != nil {
			return nil, hr.srcErr(base, 0, "listing tags of "+hr.chartName, redactErr(err))
		}
		cands := make([]candidate, 0, len(tags))
		for _, t := range tags {
			cands = append(cands, candidate{version: t})
		}
		if tag, err = selectVersion(cands, hr.constraint); err != nil {
			return nil, notFound(hr.chartName, hr.constraint, "oci://"+ref, cands, err)
		}
	}
	return hr.r.ociChart(ctx, reg, ref, tag, "", func(err error) error {
		return hr.srcErr(base, 0, "pulling "+hr.chartName+":"+tag, redactErr(err))
	})
}

// fromIndex resolves the chart through the repository's index.yaml,
// downloads it into the cache (verified against the index's digest) and
// loads it.
func (hr *helmRepoFetch) fromIndex(ctx context.Context) (*chartArtifact, error) {
	repoURL, err := normalizeRepoURL(hr.hrepo.Spec.URL)
	if err != nil {
		return nil, hr.srcErr(hr.hrepo.Spec.URL, 0, "invalid URL", err)
	}
	idx, err := hr.r.index(ctx, repoURL, hr.creds, hr.srcErr)
	if err != nil {
		return nil, err
	}
	cv, err := indexVersion(idx.IndexFile, hr.chartName, hr.constraint, repoURL)
	if err != nil {
		return nil, err
	}
	if len(cv.URLs) == 0 {
		return nil, hr.srcErr(repoURL, 0, fmt.Sprintf("chart %s %s has no download URL in the index", hr.chartName, cv.Version), nil)
	}
	chartURL, err := repo.ResolveReferenceURL(repoURL, cv.URLs[0])
	if err != nil {
		return nil, hr.srcErr(repoURL, 0, "invalid chart URL in the index", err)
	}
	p, err := hr.download(ctx, cv, repoURL, chartURL)
	if err != nil {
		return nil, err
	}
	digest := withAlgorithm(cv.Digest)
	if digest == "" {
		if digest, err = FileDigest(p); err != nil {
			return nil, hr.srcErr(chartURL, 0, "reading cached chart", err)
		}
	}
	c, err := loader.LoadFile(p)
	if err != nil {
		return nil, hr.srcErr(chartURL, 0, "loading chart "+hr.chartName+" "+cv.Version, err)
	}
	return &chartArtifact{
		ref:        result.ChartRef{Name: c.Name(), Version: c.Metadata.Version, Source: repoURL + hr.chartName, Digest: digest},
		archive:    p,
		valuesFile: valuesFromChart(p, c.Name()),
	}, nil
}

// download fetches the chart version into the cache, unless there
// already and matching the index's digest.
func (hr *helmRepoFetch) download(ctx context.Context, cv *repo.ChartVersion, repoURL, chartURL string) (string, error) {
	chartCreds := chartCredentials(hr.creds, hr.hrepo.Spec.PassCredentials, repoURL, chartURL)
	var verify func(string) bool
	if cv.Digest != "" {
		verify = func(p string) bool { return digestMatches(p, cv.Digest) }
	}
	name, version := hr.chartName, cv.Version
	key := keyOf(repoURL, name, version, cv.Digest)
	p, err := hr.r.cache.ensure("charts", safeName(name)+"-"+safeName(version)+"-"+key[:16], ".tgz", verify, func(w ioWriter) error {
		return hr.r.download(ctx, chartURL, chartCreds, w, func(status int, err error) error {
			return hr.srcErr(chartURL, status, "downloading chart "+name+" "+version, err)
		})
	})
	if err != nil {
		var se *SourceError
		if errors.As(err, &se) {
			return "", err
		}
		return "", hr.srcErr(chartURL, 0, "caching chart "+name+" "+version, err)
	}
	return p, nil
}

// chartCredentials: like Helm, credentials go to the chart URL only on
// the repository's own host unless passCredentials says otherwise.
func chartCredentials(creds credentials, pass bool, repoURL, chartURL string) credentials {
	if !pass && !sameHost(repoURL, chartURL) {
		return credentials{}
	}
	return creds
}

// withAlgorithm names an index digest's algorithm: Helm's index holds
// bare sha256 hex.
func withAlgorithm(digest string) string {
	if digest != "" && !strings.HasPrefix(digest, "sha256:") {
		return "sha256:" + digest
	}
	return digest
}

// indexVersion picks the chart version the constraint selects from the
// index; of entries repeating a version, the newest wins.
func indexVersion(idx *repo.IndexFile, chartName, constraint, repoURL string) (*repo.ChartVersion, error) {
	cvs, ok := idx.Entries[chartName]
	if !ok || len(cvs) == 0 {
		return nil, noSuchChart(idx, chartName, repoURL)
	}
	cands := make([]candidate, 0, len(cvs))
	byVersion := map[string]*repo.ChartVersion{}
	for _, cv := range cvs {
		cands = append(cands, candidate{version: cv.Version, created: cv.Created})
		if prev, ok := byVersion[cv.Version]; !ok || cv.Created.After(prev.Created) {
			byVersion[cv.Version] = cv
		}
	}
	version, err := selectVersion(cands, constraint)
	if err != nil {
		return nil, notFound(chartName, constraint, repoURL, cands, err)
	}
	return byVersion[version], nil
}

// noSuchChart says which charts the repository has, the first ten, so a
// misspelt name is seen at once.
func noSuchChart(idx *repo.IndexFile, chartName, repoURL string) error {
	names := make([]string, 0, len(idx.Entries))
	for n := range idx.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = append(names[:10], "…")
	}
	return &ChartNotFoundError{Chart: chartName, Source: repoURL,
		Reason: "the repository has no chart of that name (it has: " + strings.Join(names, ", ") + ")"}
}

// valuesFromChart reads valuesFiles from inside a packaged chart, as
// source-controller does for repository charts.
func valuesFromChart(archivePath, chartName string) func(string) ([]byte, string, bool, error) {
	return func(name string) ([]byte, string, bool, error) {
		where := fmt.Sprintf("chart %s file %s", chartName, name)
		c, err := loader.LoadFile(archivePath)
		if err != nil {
			return nil, where, false, err
		}
		clean := strings.TrimPrefix(name, "./")
		if clean == chartutil.ValuesfileName {
			data, err := yamlMarshal(c.Values)
			return data, where, true, err
		}
		for _, f := range c.Files {
			if f.Name == clean {
				return f.Data, where, true, nil
			}
		}
		return nil, where, false, nil
	}
}

func notFound(chartName, constraint, src string, cands []candidate, err error) error {
	e := &ChartNotFoundError{Chart: chartName, Constraint: constraint, Source: src}
	if constraint == "" {
		e.Constraint = "*"
	}
	if !errors.Is(err, errNoMatch) {
		e.Reason = err.Error()
		return e
	}
	e.Available = nearestVersions(cands, constraint)
	return e
}

// index returns a repository's index, fetched once per Renderer and
// credentials, and kept in the cache folder. HelmRepository objects with
// the same URL and credentials share one fetch, but each reports a failure
// as its own (srcErr names it): whichever asked first must not decide
// whose error is shown.
func (r *Renderer) index(ctx context.Context, repoURL string, creds credentials, srcErr func(string, int, string, error) error) (*indexFile, error) {
	credKey := keyOf(repoURL, creds.username, creds.password)
	idx, err := r.indexes.do(credKey, func() (*indexFile, error) {
		return r.fetchIndex(ctx, repoURL, credKey, creds)
	})
	var f *indexFailure
	if errors.As(err, &f) {
		return nil, srcErr(f.url, f.status, f.what, f.err)
	}
	return idx, err
}

// indexFailure is why an index could not be had, before it is told as the
// error of one HelmRepository.
type indexFailure struct {
	url    string
	status int
	what   string
	err    error
}

func (f *indexFailure) Error() string { return f.what + " " + f.url }
func (f *indexFailure) Unwrap() error { return f.err }

func (r *Renderer) fetchIndex(ctx context.Context, repoURL, credKey string, creds credentials) (*indexFile, error) {
	indexURL := repoURL + "index.yaml"
	fail := func(status int, err error) error {
		return &indexFailure{url: indexURL, status: status, what: "fetching the repository index", err: err}
	}
	p, err := r.cache.path("index", credKey[:16], ".yaml")
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(p, func(w ioWriter) error {
		return r.download(ctx, indexURL, creds, &limitedWriter{w: w, left: maxIndexSize}, fail)
	}); err != nil {
		var f *indexFailure
		if errors.As(err, &f) {
			return nil, f
		}
		return nil, fail(0, err)
	}
	idx, err := repo.LoadIndexFile(p)
	if err != nil {
		return nil, &indexFailure{url: indexURL, what: "the repository index does not parse", err: err}
	}
	return &indexFile{idx}, nil
}

// download GETs u into w; fail builds the error for a status or transport
// failure.
func (r *Renderer) download(ctx context.Context, u string, creds credentials, w io.Writer, fail func(status int, err error) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(0, err)
	}
	if creds.username != "" || creds.password != "" {
		req.SetBasicAuth(creds.username, creds.password)
	}
	resp, err := r.opts.HTTPClient.Do(req)
	if err != nil {
		return fail(0, fmt.Errorf("repository unreachable: %w", stripURLErr(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(resp.StatusCode, nil)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fail(0, err)
	}
	return nil
}

// stripURLErr drops the *url.Error wrapper, whose message repeats the URL
// the SourceError already shows.
func stripURLErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, fmt.Errorf("larger than %d bytes", maxIndexSize)
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// normalizeRepoURL gives an HTTP repository URL the trailing slash
// source-controller gives it, so relative chart URLs resolve alike.
func normalizeRepoURL(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return "", fmt.Errorf("scheme %q is not http(s) or oci", parsed.Scheme)
	}
	parsed.Path = strings.TrimRight(parsed.Path, "/") + "/"
	parsed.RawPath = ""
	return parsed.String(), nil
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host == ub.Host
}
