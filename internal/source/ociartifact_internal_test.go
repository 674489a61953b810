package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type tarEntry struct {
	name, body string
	typ        byte
	link       string
}

func archive(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUntarGzipHostile: archive entry names are data; an artifact may not
// write outside its tree, plant a .git, or bring symlinks.
func TestUntarGzipHostile(t *testing.T) {
	for name, e := range map[string]tarEntry{
		"climbs": {name: "apps/../../evil.yaml", body: "x", typ: tar.TypeReg},
		"abs":    {name: "/etc/evil.yaml", body: "x", typ: tar.TypeReg},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			err := untarGzip(bytes.NewReader(archive(t, e)), filepath.Join(dir, "tree"))
			if err == nil || !strings.Contains(err.Error(), "archive entry") {
				t.Fatalf("want the entry refused, got %v", err)
			}
		})
	}
	dir := t.TempDir()
	err := untarGzip(bytes.NewReader(archive(t,
		tarEntry{name: "apps/", typ: tar.TypeDir},
		tarEntry{name: "apps/cm.yaml", body: "kind: ConfigMap\n", typ: tar.TypeReg},
		tarEntry{name: ".git/config", body: "[core]\n", typ: tar.TypeReg},
		tarEntry{name: "apps/link.yaml", typ: tar.TypeSymlink, link: "/etc/passwd"},
	)), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "apps", "cm.yaml")); err != nil {
		t.Error(err)
	}
	for _, absent := range []string{".git", "apps/link.yaml"} {
		if _, err := os.Lstat(filepath.Join(dir, absent)); err == nil {
			t.Errorf("%s was extracted", absent)
		}
	}
}
