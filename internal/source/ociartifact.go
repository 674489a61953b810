package source

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// Bounds on what an OCI artifact may make slipway read and write: real
// manifests are kilobytes, real artifacts of manifests a few megabytes.
const (
	maxOCIManifestSize  = 4 << 20
	maxOCILayerSize     = 256 << 20
	maxOCIExtractedSize = 512 << 20
)

// OCIRef says which artifact of an OCIRepository to pull and how, as its
// spec does. Reference precedence follows source-controller: digest, then
// semver (among the tags semverFilter keeps), then tag, default latest.
type OCIRef struct {
	// URL is oci://host/repository.
	URL                               string
	Digest, SemVer, SemverFilter, Tag string
	// MediaType selects the layer (layerSelector.mediaType); "" takes the
	// first. Operation is extract (default) or copy: both give the files
	// of a tar+gzip layer, as kustomize-controller extracts a copied one.
	MediaType, Operation string
	// Insecure reaches the registry over plain HTTP.
	Insecure bool
	// Username and Password are the credentials of spec.secretRef.
	Username, Password string
}

// OCIFetcher pulls OCI artifacts (`flux push artifact`) with ORAS and
// extracts them into a cache directory, one tree per layer digest, shared
// by concurrent builds.
type OCIFetcher struct {
	// CacheDir holds the extracted trees; it survives runs.
	CacheDir string
	// HTTPClient reaches registries; nil uses one with a timeout whose
	// transport applies Network.
	HTTPClient *http.Client
	// Network guards the connections a repository's OCIRepository causes:
	// the zero value refuses loopback, link-local and metadata addresses.
	Network NetworkOptions

	fetches fetchOnce
}

// OCIError is a failure to pull an OCI artifact; it never includes
// credentials.
type OCIError struct {
	URL string
	Err error
}

func (e *OCIError) Error() string { return fmt.Sprintf("pulling %s: %v", e.URL, e.Err) }
func (e *OCIError) Unwrap() error { return e.Err }

// Fetch returns the extracted tree of the artifact ref names and its
// revision (<tag>@sha256:<digest>, as source-controller spells it).
func (f *OCIFetcher) Fetch(ctx context.Context, ref OCIRef) (dir, revision string, err error) {
	repo, err := f.repository(ref)
	if err != nil {
		return "", "", &OCIError{URL: ref.URL, Err: err}
	}
	tag, err := selectOCITag(ctx, repo, ref)
	if err != nil {
		return "", "", &OCIError{URL: ref.URL, Err: err}
	}
	reference := tag
	if ref.Digest != "" {
		reference = ref.Digest
	}
	manifest, layer, err := ociLayer(ctx, repo, reference, ref.MediaType)
	if err != nil {
		return "", "", &OCIError{URL: ref.URL, Err: err}
	}
	revision = manifest.Digest.String()
	if tag != "" && ref.Digest == "" {
		revision = tag + "@" + revision
	}
	key := "oci-" + strings.ReplaceAll(layer.Digest.String(), ":", "-")
	dir, err = f.once(key, func() (string, error) { return f.extract(ctx, repo, layer, key) })
	if err != nil {
		return "", "", &OCIError{URL: ref.URL, Err: err}
	}
	return dir, revision, nil
}

func (f *OCIFetcher) repository(ref OCIRef) (*remote.Repository, error) {
	if !strings.HasPrefix(ref.URL, "oci://") {
		return nil, errors.New("url must start with oci://")
	}
	repo, err := remote.NewRepository(strings.TrimPrefix(strings.TrimRight(ref.URL, "/"), "oci://"))
	if err != nil {
		return nil, err
	}
	repo.PlainHTTP = ref.Insecure
	client := f.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute, Transport: f.Network.Transport()}
	}
	ac := &auth.Client{Client: WithSafeRedirects(client), Cache: auth.NewCache()}
	if ref.Username != "" || ref.Password != "" {
		ac.Credential = auth.StaticCredential(repo.Reference.Registry, auth.Credential{Username: ref.Username, Password: ref.Password})
	}
	repo.Client = ac
	return repo, nil
}

// selectOCITag returns the tag a ref names ("" for a digest).
func selectOCITag(ctx context.Context, repo *remote.Repository, ref OCIRef) (string, error) {
	switch {
	case ref.Digest != "":
		return "", nil
	case ref.SemVer != "":
		c, err := semver.NewConstraint(ref.SemVer)
		if err != nil {
			return "", fmt.Errorf("semver %q: %w", ref.SemVer, err)
		}
		var filter *regexp.Regexp
		if ref.SemverFilter != "" {
			if filter, err = regexp.Compile(ref.SemverFilter); err != nil {
				return "", fmt.Errorf("semverFilter: %w", err)
			}
		}
		var best *semver.Version
		var bestTag string
		err = repo.Tags(ctx, "", func(tags []string) error {
			for _, t := range tags {
				if filter != nil && !filter.MatchString(t) {
					continue
				}
				v, err := semver.NewVersion(t)
				if err == nil && c.Check(v) && (best == nil || v.GreaterThan(best)) {
					best, bestTag = v, t
				}
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("listing tags: %w", err)
		}
		if best == nil {
			return "", fmt.Errorf("no tag matches semver %q", ref.SemVer)
		}
		return bestTag, nil
	case ref.Tag != "":
		return ref.Tag, nil
	}
	return "latest", nil
}

// ociLayer resolves the manifest and picks the layer, as source-controller's
// layerSelector does.
func ociLayer(ctx context.Context, repo *remote.Repository, reference, mediaType string) (manifest, layer ocispec.Descriptor, err error) {
	manifest, err = repo.Resolve(ctx, reference)
	if err != nil {
		return manifest, layer, fmt.Errorf("resolving %s: %w", reference, err)
	}
	if manifest.Size > maxOCIManifestSize {
		return manifest, layer, fmt.Errorf("manifest of %d bytes is larger than %d", manifest.Size, maxOCIManifestSize)
	}
	// FetchAll checks the size and the digest.
	data, err := content.FetchAll(ctx, repo, manifest)
	if err != nil {
		return manifest, layer, fmt.Errorf("fetching the manifest: %w", err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return manifest, layer, fmt.Errorf("the manifest does not parse: %w", err)
	}
	for _, l := range m.Layers {
		if mediaType == "" || l.MediaType == mediaType {
			return manifest, l, nil
		}
	}
	if mediaType == "" {
		return manifest, layer, errors.New("the artifact has no layer")
	}
	return manifest, layer, fmt.Errorf("the artifact has no layer of media type %s", mediaType)
}

// once runs fill once per key for concurrent callers, and not at all when
// the tree is cached.
func (f *OCIFetcher) once(key string, fill func() (string, error)) (string, error) {
	dir, _, err := f.fetches.do(key, func() (string, string, error) {
		dir, err := fill()
		return dir, "", err
	})
	return dir, err
}

// extract downloads a layer, verifying its digest, and unpacks it.
func (f *OCIFetcher) extract(ctx context.Context, repo *remote.Repository, layer ocispec.Descriptor, key string) (string, error) {
	if layer.Size > maxOCILayerSize {
		return "", fmt.Errorf("layer of %d bytes is larger than %d", layer.Size, maxOCILayerSize)
	}
	return cachedTree(f.CacheDir, key, ".pull-", func(tmp string) (string, error) {
		blob := filepath.Join(tmp, "layer.tgz")
		if err := fetchVerified(ctx, repo, layer, blob); err != nil {
			return "", fmt.Errorf("layer %s: %w", layer.Digest, err)
		}
		tree := filepath.Join(tmp, "tree")
		if err := untarFile(blob, tree); err != nil {
			return "", fmt.Errorf("layer %s: %w", layer.Digest, err)
		}
		return tree, nil
	})
}

// fetchVerified downloads a blob to a file and checks its size and digest
// before anything reads it: an archive is never unpacked unverified.
func fetchVerified(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, target string) error {
	rc, err := repo.Fetch(ctx, desc)
	if err != nil {
		return fmt.Errorf("fetching: %w", err)
	}
	defer rc.Close()
	out, err := os.Create(target)
	if err != nil {
		return err
	}
	vr := content.NewVerifyReader(rc, desc)
	if _, err := io.Copy(out, vr); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return vr.Verify()
}

func untarFile(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	return untarGzip(f, dir)
}

// untarGzip unpacks regular files and directories into dir. Entry names
// are data: one that is absolute, climbs out or enters .git is refused;
// symlinks and devices are left out, as source-controller leaves symlinks
// out of its artifacts.
func untarGzip(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a tar+gzip layer: %w", err)
	}
	tr := tar.NewReader(zr)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		rel, err := tarPath(h.Name)
		if err != nil {
			return err
		}
		if rel == "" {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if total += h.Size; total > maxOCIExtractedSize {
				return fmt.Errorf("the archive holds more than %d bytes", maxOCIExtractedSize)
			}
			if err := writeTarFile(tr, target, h.Size); err != nil {
				return err
			}
		}
	}
}

// tarPath checks an archive entry name; "" means skip it (the root, .git).
func tarPath(name string) (string, error) { return fetchedPath("archive entry", name) }

// fetchedPath checks a name a fetched source gives a file (an archive entry,
// a bucket's object key) as a path inside the tree: never absolute, never
// climbing out; "" means skip it (the root, .git, which the fetch must
// not write).
func fetchedPath(what, name string) (string, error) {
	if path.IsAbs(name) || strings.HasPrefix(name, "\\") {
		return "", fmt.Errorf("%s %q: absolute path", what, name)
	}
	clean, err := CleanRelative(name)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", what, name, err)
	}
	if clean == "." || clean == ".git" || strings.HasPrefix(clean, ".git/") {
		return "", nil
	}
	return clean, nil
}

func writeTarFile(r io.Reader, target string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(out, r, size); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
