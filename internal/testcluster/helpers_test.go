package testcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLastLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"/a/kubeconfig\n": "/a/kubeconfig",
		"x\ny\n/b/k.yaml": "/b/k.yaml",
		"x\n/c\r\n\n":     "/c",
	} {
		if got := lastLine(in); got != want {
			t.Errorf("lastLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModulePathOf(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"module github.com/slipwayhq/slipway\n\ngo 1.26.0\n": ModulePath,
		"// c\nmodule \"github.com/slipwayhq/slipway\"\n":    ModulePath,
		"module github.com/slipwayhq/slipway/hack/cluster\n": ModulePath + "/hack/cluster",
		"modules x\n": "",
	} {
		p := filepath.Join(dir, "go.mod")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := modulePathOf(p); got != want {
			t.Errorf("modulePathOf(%q) = %q, want %q", content, got, want)
		}
	}
	if got := modulePathOf(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("modulePathOf(missing) = %q", got)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 5}
	_, _ = b.Write([]byte("abc"))
	_, _ = b.Write([]byte("defg"))
	if got := b.String(); got != "cdefg" {
		t.Errorf("tail = %q, want cdefg", got)
	}
}

func TestNames(t *testing.T) {
	n, err := randomName()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n, namePrefix) || !nameRE.MatchString(n) {
		t.Errorf("random name %q is not valid", n)
	}
	for _, bad := range []string{"", "-a", "a-", "A", "a_b", "a/b", strings.Repeat("a", 43)} {
		if nameRE.MatchString(bad) {
			t.Errorf("name %q accepted", bad)
		}
	}
}

func TestLastBytes(t *testing.T) {
	if got := string(lastBytes([]byte("abcdef"), 3)); got != "def" {
		t.Errorf("lastBytes = %q", got)
	}
	if got := string(lastBytes([]byte("ab"), 3)); got != "ab" {
		t.Errorf("lastBytes of a short log = %q", got)
	}
}
