package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Bounds on what a Bucket may make slipway read and write: a bucket of
// manifests holds hundreds of small objects, not a data lake.
const (
	maxBucketObjects    = 10000
	maxBucketObjectSize = 64 << 20
	maxBucketTotalSize  = 512 << 20
)

// BucketRef says which objects of a Bucket to fetch and how, as its spec
// does (provider generic: any S3-compatible server).
type BucketRef struct {
	// Endpoint is host[:port], without a scheme, as spec.endpoint.
	Endpoint   string
	BucketName string
	// Prefix limits the listing (spec.prefix); keys keep it in the tree.
	Prefix string
	// Region is spec.region ("" lets the client discover it).
	Region string
	// Insecure reaches the endpoint over plain HTTP.
	Insecure bool
	// Ignore is spec.ignore, applied on top of the bucket's root
	// .sourceignore object.
	Ignore string
	// AccessKey and SecretKey come from the Bucket's spec.secretRef only;
	// empty means anonymous requests.
	AccessKey, SecretKey string
}

// BucketFetcher lists and downloads the objects of S3-compatible buckets
// with minio-go (the client source-controller uses for provider generic)
// into a cache directory, one tree per content (the objects' ETags).
type BucketFetcher struct {
	// CacheDir holds the fetched trees; it survives runs.
	CacheDir string
	// Network guards the connections a repository's Bucket causes: the
	// zero value refuses loopback, link-local and metadata addresses.
	Network NetworkOptions
	// Transport replaces the guarded transport (tests); nil uses Network.
	Transport http.RoundTripper

	fetches fetchOnce
}

// BucketError is a failure to fetch a Bucket; it never includes the
// credentials.
type BucketError struct {
	Endpoint, Bucket string
	// NotFound: the bucket does not exist (or is not visible with these
	// credentials).
	NotFound bool
	Err      error
}

func (e *BucketError) Error() string {
	return fmt.Sprintf("bucket %q at %s: %v", e.Bucket, e.Endpoint, e.Err)
}
func (e *BucketError) Unwrap() error { return e.Err }

// Fetch returns the tree of the bucket's objects that source-controller
// would put in the artifact, and its revision (sha256 of the key/ETag
// index, as source-controller's revision is a digest of that index).
func (f *BucketFetcher) Fetch(ctx context.Context, ref BucketRef) (dir, revision string, err error) {
	fail := func(err error) (string, string, error) {
		return "", "", &BucketError{Endpoint: ref.Endpoint, Bucket: ref.BucketName, Err: scrubCredentials(err, ref)}
	}
	client, err := f.client(ref)
	if err != nil {
		return fail(err)
	}
	exists, err := client.BucketExists(ctx, ref.BucketName)
	if err != nil {
		return fail(fmt.Errorf("checking that the bucket exists: %w", err))
	}
	if !exists {
		e := &BucketError{Endpoint: ref.Endpoint, Bucket: ref.BucketName, NotFound: true, Err: errors.New("bucket not found")}
		return "", "", e
	}
	index, err := bucketIndex(ctx, client, ref)
	if err != nil {
		return fail(err)
	}
	revision = index.revision()
	key := "bucket-" + shortHash(ref.Endpoint+"\x00"+ref.BucketName+"\x00"+revision)
	dir, err = f.once(key, func() (string, error) {
		return cachedTree(f.CacheDir, key, ".fetch-", func(tmp string) (string, error) {
			return tmp, downloadIndex(ctx, client, ref.BucketName, index, tmp)
		})
	})
	if err != nil {
		return fail(err)
	}
	return dir, revision, nil
}

func (f *BucketFetcher) client(ref BucketRef) (*minio.Client, error) {
	if ref.Endpoint == "" || strings.Contains(ref.Endpoint, "/") {
		return nil, fmt.Errorf("spec.endpoint %q must be host[:port], without a scheme or path", ref.Endpoint)
	}
	host := ref.Endpoint
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	// Refused by name before any request, as the Git and OCI fetches are;
	// resolved names are checked again at dial time by the transport.
	if err := f.Network.Policy.CheckHost(host); err != nil {
		return nil, err
	}
	tr := f.Transport
	if tr == nil {
		tr = f.Network.Transport()
	}
	opts := &minio.Options{Secure: !ref.Insecure, Region: ref.Region, Transport: tr}
	if ref.AccessKey != "" || ref.SecretKey != "" {
		opts.Creds = credentials.NewStaticV4(ref.AccessKey, ref.SecretKey, "")
	} else {
		opts.Creds = credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
	}
	return minio.New(ref.Endpoint, opts)
}

// bucketEntries is the key → ETag index of the objects to fetch.
type bucketEntries map[string]string

// revision digests the index in key order, so the same objects give the
// same revision whatever order the server lists them in.
func (ix bucketEntries) revision() string {
	keys := make([]string, 0, len(ix))
	for k := range ix {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s %s\n", k, ix[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// bucketIndex lists the objects under the prefix, leaving out what
// source-controller leaves out: "directory" keys, the root .sourceignore
// itself, and whatever its patterns and spec.ignore match (no default
// exclusions at this stage, as in source-controller's fetchEtagIndex).
func bucketIndex(ctx context.Context, client *minio.Client, ref BucketRef) (bucketEntries, error) {
	patterns, err := rootIgnorePatterns(ctx, client, ref.BucketName)
	if err != nil {
		return nil, err
	}
	if ref.Ignore != "" {
		patterns = append(patterns, sourceignore.ReadPatterns(strings.NewReader(ref.Ignore), nil)...)
	}
	matcher := sourceignore.NewMatcher(patterns)
	ix := bucketEntries{}
	for obj := range client.ListObjects(ctx, ref.BucketName, minio.ListObjectsOptions{Prefix: ref.Prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing objects: %w", obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") || obj.Key == sourceignore.IgnoreFile {
			continue
		}
		if matcher.Match(strings.Split(obj.Key, "/"), false) {
			continue
		}
		if obj.Size > maxBucketObjectSize {
			return nil, fmt.Errorf("object %q of %d bytes is larger than %d", obj.Key, obj.Size, maxBucketObjectSize)
		}
		if ix[obj.Key] = obj.ETag; len(ix) > maxBucketObjects {
			return nil, fmt.Errorf("more than %d objects", maxBucketObjects)
		}
	}
	return ix, nil
}

// rootIgnorePatterns reads the .sourceignore object at the bucket's root,
// if any.
func rootIgnorePatterns(ctx context.Context, client *minio.Client, bucket string) ([]gitignore.Pattern, error) {
	obj, err := client.GetObject(ctx, bucket, sourceignore.IgnoreFile, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", sourceignore.IgnoreFile, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, 1<<20))
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s: %w", sourceignore.IgnoreFile, err)
	}
	return sourceignore.ReadPatterns(strings.NewReader(string(data)), nil), nil
}

// downloadIndex writes every indexed object under dir at its key. Keys are
// data: one that is absolute, climbs out or enters .git is refused.
func downloadIndex(ctx context.Context, client *minio.Client, bucket string, ix bucketEntries, dir string) error {
	var total int64
	for key := range ix {
		rel, err := bucketKeyPath(key)
		if err != nil {
			return err
		}
		if rel == "" {
			continue
		}
		n, err := downloadObject(ctx, client, bucket, key, filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if total += n; total > maxBucketTotalSize {
			return fmt.Errorf("the bucket holds more than %d bytes", maxBucketTotalSize)
		}
	}
	return nil
}

// bucketKeyPath checks an object key as a path of the tree; "" means
// skip it (.git).
func bucketKeyPath(key string) (string, error) { return fetchedPath("object key", key) }

func downloadObject(ctx context.Context, client *minio.Client, bucket, key, target string) (int64, error) {
	obj, err := client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("object %q: %w", key, err)
	}
	defer obj.Close()
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return 0, fmt.Errorf("object %q: %w", key, err)
	}
	n, err := io.Copy(out, io.LimitReader(obj, maxBucketObjectSize+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("object %q: %w", key, err)
	}
	if n > maxBucketObjectSize {
		return n, fmt.Errorf("object %q is larger than %d bytes", key, maxBucketObjectSize)
	}
	return n, nil
}

// once runs fill once per key for concurrent callers.
func (f *BucketFetcher) once(key string, fill func() (string, error)) (string, error) {
	dir, _, err := f.fetches.do(key, func() (string, string, error) {
		dir, err := fill()
		return dir, "", err
	})
	return dir, err
}

// scrubCredentials keeps the keys out of an error, whatever a server or
// the client library put in it.
func scrubCredentials(err error, ref BucketRef) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range []string{ref.SecretKey, ref.AccessKey} {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "***")
		}
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}
