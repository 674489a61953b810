package source_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

func bucketFetcher(t *testing.T) *source.BucketFetcher {
	return &source.BucketFetcher{CacheDir: t.TempDir(), Network: source.NetworkOptions{Policy: source.AddressPolicy{AllowLocal: true}}}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBucketFetchRevision: the revision follows the content, not the
// order or the time of the listing, and a changed object changes it.
func TestBucketFetchRevision(t *testing.T) {
	s3 := testutil.StartS3Server(t, "ak", "sk-bucket-test")
	s3.Upload(t, "one", writeTree(t, map[string]string{"a.yaml": "a: 1\n", "d/b.yaml": "b: 1\n"}))
	s3.Upload(t, "two", writeTree(t, map[string]string{"a.yaml": "a: 2\n", "d/b.yaml": "b: 1\n"}))
	f := bucketFetcher(t)
	ref := source.BucketRef{Endpoint: s3.Endpoint, BucketName: "one", Insecure: true, AccessKey: "ak", SecretKey: "sk-bucket-test"}
	dir1, rev1, err := f.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	_, again, err := f.Fetch(context.Background(), ref)
	if err != nil || again != rev1 {
		t.Fatalf("refetch: %s vs %s, %v", again, rev1, err)
	}
	ref.BucketName = "two"
	_, rev2, err := f.Fetch(context.Background(), ref)
	if err != nil || rev2 == rev1 {
		t.Fatalf("another content has the same revision %s (%v)", rev2, err)
	}
	if data, err := os.ReadFile(filepath.Join(dir1, "d", "b.yaml")); err != nil || string(data) != "b: 1\n" {
		t.Errorf("d/b.yaml: %q, %v", data, err)
	}
}

// TestBucketHostileKeys: a key climbing out of the tree is refused and
// .git is never written.
func TestBucketHostileKeys(t *testing.T) {
	s3 := testutil.StartS3Server(t, "ak", "sk-bucket-test")
	s3.Upload(t, "git", writeTree(t, map[string]string{".git/config": "[core]\n", "ok.yaml": "a: 1\n"}))
	f := bucketFetcher(t)
	ref := source.BucketRef{Endpoint: s3.Endpoint, BucketName: "git", Insecure: true, AccessKey: "ak", SecretKey: "sk-bucket-test"}
	dir, _, err := f.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".git was written: %v", err)
	}
	s3.Put(t, "git", "a/../../escape.yaml", "a: 1\n")
	if _, _, err := f.Fetch(context.Background(), ref); err == nil || !strings.Contains(err.Error(), `object key "a/../../escape.yaml"`) {
		t.Errorf("a key climbing out of the tree: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.CacheDir), "escape.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("escape.yaml was written outside the cache: %v", err)
	}
	// An endpoint with a scheme is Flux's most common mistake: refused
	// before any request, the credentials nowhere in the error.
	ref.Endpoint = "http://" + s3.Endpoint
	before := s3.Requests.Load()
	_, _, err = f.Fetch(context.Background(), ref)
	if err == nil || !strings.Contains(err.Error(), "without a scheme") || strings.Contains(err.Error(), "sk-bucket-test") || s3.Requests.Load() != before {
		t.Errorf("err = %v", err)
	}
}
