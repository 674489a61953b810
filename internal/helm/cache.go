package helm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// chartCache is the on-disk cache shared by runs (CI restores it):
//
//	<dir>/index/<sha256(url)[:16]>.yaml    repository indexes, rewritten every run
//	<dir>/charts/<key>.tgz                 charts as fetched, immutable
//	<dir>/packaged/<key>.tgz               charts packaged by slipway (Git
//	                                       sources, valuesFiles, OCI digest versions)
//
// Files are written to a temporary name and renamed into place, so a
// concurrent process never reads half a chart.
type chartCache struct {
	dir string

	files flight[string]
}

// path returns the cache path for a kind ("charts", "packaged", "index")
// and a key, creating the folder.
func (c *chartCache) path(kind, key, ext string) (string, error) {
	d := filepath.Join(c.dir, kind)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("chart cache: %w", err)
	}
	return filepath.Join(d, key+ext), nil
}

// ensure returns the cached file for key, producing it with fill (which
// writes the content to w) when it is missing or fails verify. Concurrent
// calls for one key produce it once.
func (c *chartCache) ensure(kind, key, ext string, verify func(path string) bool, fill func(w io.Writer) error) (string, error) {
	return c.files.do(kind+"/"+key, func() (string, error) {
		p, err := c.path(kind, key, ext)
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && (verify == nil || verify(p)) {
			return p, nil
		}
		if err := writeAtomic(p, fill); err != nil {
			return "", err
		}
		if verify != nil && !verify(p) {
			_ = os.Remove(p)
			return "", fmt.Errorf("%s does not match its expected digest", filepath.Base(p))
		}
		return p, nil
	})
}

func writeAtomic(p string, fill func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-")
	if err != nil {
		return fmt.Errorf("chart cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("chart cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("chart cache: %w", err)
	}
	return nil
}

// FileDigest returns "sha256:<hex>" of a file (a packaged chart).
func FileDigest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// digestMatches reports whether the file has the digest (with or without
// the "sha256:" prefix).
func digestMatches(p, want string) bool {
	got, err := FileDigest(p)
	if err != nil {
		return false
	}
	return strings.TrimPrefix(got, "sha256:") == strings.TrimPrefix(strings.ToLower(want), "sha256:")
}

// keyOf hashes parts into a short, file-name-safe cache key.
func keyOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// safeName keeps a chart name or version readable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
