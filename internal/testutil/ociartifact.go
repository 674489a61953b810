package testutil

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// FluxContentMediaType is the layer media type `flux push artifact` writes.
const FluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"

// Registry is an in-process OCI registry on loopback.
type Registry struct {
	// Host is host:port, for oci://Host/… URLs (plain HTTP).
	Host string
	// BlobGets counts blob downloads; Corrupt, when set, flips a byte of
	// every blob served, as a tampering proxy would.
	BlobGets atomic.Int64
	Corrupt  atomic.Bool
}

// StartRegistry starts a registry for the test.
func StartRegistry(t *testing.T) *Registry {
	t.Helper()
	h := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	reg := &Registry{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
			h.ServeHTTP(w, r)
			return
		}
		reg.BlobGets.Add(1)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if reg.Corrupt.Load() && len(body) > 0 {
			body[len(body)/2] ^= 0xff
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	reg.Host = strings.TrimPrefix(s.URL, "http://")
	return reg
}

// PushArtifact pushes the files under dir as `flux push artifact` does (one
// tar+gzip layer) to Host/repoPath:tag and returns the manifest digest.
func (r *Registry) PushArtifact(t *testing.T, repoPath, tag, dir string) string {
	t.Helper()
	ctx := context.Background()
	repo, err := remote.NewRepository(r.Host + "/" + repoPath)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	data := tarGzip(t, dir)
	layer := content.NewDescriptorFromBytes(FluxContentMediaType, data)
	if err := repo.Push(ctx, layer, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	m, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.cncf.flux.config.v1+json",
		oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, m, tag); err != nil {
		t.Fatal(err)
	}
	return m.Digest.String()
}

// tarGzip archives dir with fixed times, so digests are stable.
func tarGzip(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name, h.ModTime = filepath.ToSlash(rel), time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
