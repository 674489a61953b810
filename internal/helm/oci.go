package helm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/slipwayhq/slipway/internal/result"
)

// registry returns a Helm registry client for one host. Credentials come
// only from the source's secretRef: never from the local Docker or Helm
// configuration, whose credential stores could run external programs.
func (r *Renderer) registry(host string, insecure bool, creds credentials) *registryClient {
	authClient := auth.Client{Client: r.opts.HTTPClient, Cache: auth.NewCache()}
	if user, pass := creds.forHost(host); user != "" || pass != "" {
		authClient.Credential = auth.StaticCredential(host, auth.Credential{Username: user, Password: pass})
	}
	opts := []registry.ClientOption{
		registry.ClientOptHTTPClient(r.opts.HTTPClient),
		registry.ClientOptAuthorizer(authClient),
		registry.ClientOptCredentialsFile(filepath.Join(r.opts.CacheDir, "registry-config.json")),
	}
	plain := insecure || slices.Contains(r.opts.PlainHTTPHosts, host)
	if plain {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	c, err := registry.NewClient(opts...)
	if err != nil {
		// NewClient fails only when it cannot set up a credentials store,
		// which slipway does not use; a bare client still works.
		c, _ = registry.NewClient(registry.ClientOptHTTPClient(r.opts.HTTPClient), registry.ClientOptAuthorizer(authClient))
	}
	return newRegistryClient(c, &r.registries, host, plain, creds)
}

func ociHost(u string) string {
	h := strings.TrimPrefix(u, "oci://")
	if i := strings.Index(h, "/"); i >= 0 {
		h = h[:i]
	}
	return h
}

// redactErr keeps a registry's error answer to its status and URL: ORAS
// quotes the messages of the body, and a server on the runner's network
// may answer with anything.
func redactErr(err error) error {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return &StatusError{Method: resp.Method, URL: bareURL(resp.URL), StatusCode: resp.StatusCode}
	}
	return stripURLErr(err)
}

// bareURL drops user information and query (a token service's scope).
func bareURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery = nil, "", false
	return c.String()
}

// ociChart resolves ref:tag (or ref@digest) to its manifest digest and
// returns the chart, pulled once per digest into the cache.
func (r *Renderer) ociChart(_ context.Context, reg *registryClient, ref, tag, digest string, fail func(error) error) (*chartArtifact, error) {
	full := ref + ":" + tag
	if digest != "" {
		full = ref + "@" + digest
	}
	desc, err := reg.Resolve(full)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			e := &ChartNotFoundError{Chart: ref[strings.LastIndex(ref, "/")+1:], Constraint: tag, Source: "oci://" + ref}
			if digest != "" {
				e.Constraint = digest
			}
			if tags, terr := reg.Tags(ref); terr == nil {
				cands := make([]candidate, 0, len(tags))
				for _, t := range tags {
					cands = append(cands, candidate{version: t})
				}
				e.Available = nearestVersions(cands, tag)
			}
			return nil, e
		}
		return nil, fail(err)
	}
	manifest := desc.Digest.String()
	hexd := strings.TrimPrefix(manifest, "sha256:")
	name := ref[strings.LastIndex(ref, "/")+1:]
	p, err := r.cache.ensure("charts", safeName(name)+"-oci-"+hexd[:min(32, len(hexd))], ".tgz", nil, func(w ioWriter) error {
		res, err := reg.Pull(ref + "@" + manifest)
		if err != nil {
			return fail(err)
		}
		if res.Manifest.Digest != manifest {
			return fail(fmt.Errorf("pulled manifest %s, expected %s", res.Manifest.Digest, manifest))
		}
		_, err = w.Write(res.Chart.Data)
		return err
	})
	if err != nil {
		var se *SourceError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fail(err)
	}
	c, err := loader.LoadFile(p)
	if err != nil {
		return nil, fail(fmt.Errorf("loading chart: %w", err))
	}
	return &chartArtifact{
		ref:        result.ChartRef{Name: c.Name(), Version: c.Metadata.Version, Source: "oci://" + ref, Digest: manifest},
		archive:    p,
		valuesFile: valuesFromChart(p, c.Name()),
	}, nil
}

// ociRepositoryChart resolves spec.chartRef to an OCIRepository: digest,
// then semver (with semverFilter), then tag, default "latest", as
// source-controller does. helm-controller then appends the first 12 hex of
// the digest to the chart version, and refuses a semver tag that differs
// from the chart's version.
func (r *Renderer) ociRepositoryChart(ctx context.Context, ns, name string, lookup Lookup) (*chartArtifact, error) {
	or := &sourcev1.OCIRepository{}
	if err := getSource(lookup, sourcev1.OCIRepositoryKind, ns, name, or); err != nil {
		return nil, err
	}
	srcErr := func(reason string, err error) error {
		return &SourceError{Kind: sourcev1.OCIRepositoryKind, Namespace: ns, Name: name, URL: or.Spec.URL, Reason: reason, Err: err}
	}
	if !strings.HasPrefix(or.Spec.URL, "oci://") {
		return nil, srcErr("url must start with oci://", nil)
	}
	var secretName string
	if or.Spec.SecretRef != nil {
		secretName = or.Spec.SecretRef.Name
	}
	creds, err := secretCredentials(lookup, sourcev1.OCIRepositoryKind, ns, name, secretName)
	if err != nil {
		return nil, err
	}
	ref := strings.TrimPrefix(strings.TrimRight(or.Spec.URL, "/"), "oci://")
	reg := r.registry(ociHost(or.Spec.URL), or.Spec.Insecure, creds)
	var tag, digest string
	sref := or.Spec.Reference
	switch {
	case sref != nil && sref.Digest != "":
		digest = sref.Digest
	case sref != nil && sref.SemVer != "":
		tags, err := reg.Tags(ref)
		if err != nil {
			return nil, srcErr("listing tags", redactErr(err))
		}
		if sref.SemverFilter != "" {
			re, err := regexp.Compile(sref.SemverFilter)
			if err != nil {
				return nil, srcErr("invalid semverFilter", err)
			}
			tags = slices.DeleteFunc(tags, func(t string) bool { return !re.MatchString(t) })
		}
		cands := make([]candidate, 0, len(tags))
		for _, t := range tags {
			cands = append(cands, candidate{version: t})
		}
		// source-controller matches the constraint only (no exact-string
		// shortcut) for OCIRepository semver.
		if tag, err = selectVersion(cands, sref.SemVer); err != nil {
			return nil, notFound(ref[strings.LastIndex(ref, "/")+1:], sref.SemVer, or.Spec.URL, cands, err)
		}
	case sref != nil && sref.Tag != "":
		tag = sref.Tag
	default:
		tag = "latest"
	}
	art, err := r.ociChart(ctx, reg, ref, tag, digest, func(err error) error { return srcErr("pulling the chart", redactErr(err)) })
	if err != nil {
		return nil, err
	}
	// A semver tag must name the chart's own version (helm-controller's
	// mutateChartWithSourceRevision).
	if tag != "" {
		if tv, err := parseVersion(strings.ReplaceAll(tag, "_", "+")); err == nil {
			cv, cerr := parseVersion(art.ref.Version)
			if cerr != nil || !tv.Equal(cv) {
				return nil, srcErr(fmt.Sprintf("artifact revision %s does not match chart version %s", tag, art.ref.Version), nil)
			}
		}
	}
	hexd := strings.TrimPrefix(art.ref.Digest, "sha256:")
	if len(hexd) < 12 {
		return nil, srcErr("invalid artifact digest "+art.ref.Digest, nil)
	}
	art.versionMetadata = hexd[:12]
	art.valuesFile = nil
	return art, nil
}
