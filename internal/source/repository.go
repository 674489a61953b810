package source

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"github.com/go-git/go-git/v5/plumbing"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// DefaultMaxFileSize bounds every file read from the repository. Real
// manifests are far smaller; the bound stops a stray binary or a generated
// monster from exhausting memory.
const DefaultMaxFileSize = 8 << 20

// DefaultMaxDocuments bounds the YAML documents one Kustomization's build
// reads (see GuardedFS): 5,000 build in a few seconds, 10,000 take over a
// minute in kustomize. Real Kustomizations hold far fewer.
const DefaultMaxDocuments = 5000

// Repository is the configuration repository as a filesystem rooted at Root.
type Repository struct {
	// Root is the absolute path of the repository inside FS.
	Root string
	// FS is locked to Root: nothing outside it can be read, symlinks included.
	FS filesys.FileSystem
	// URLs are the remote URLs this repository is known by, normalised, so
	// a GitRepository pointing at it is recognised as "this repository".
	URLs []string
	// MaxFileSize bounds files read through Guard.
	MaxFileSize int64
	// MaxDocuments bounds the YAML documents one build reads through Guard.
	MaxDocuments int

	// Revision is the commit an OpenRevision repository was read from; ""
	// for a worktree.
	Revision string
	// GitDir is the Git repository the files belong to, where other
	// revisions of this repository are looked for (ResolveLocalRef); ""
	// when it is not one.
	GitDir string

	// cleanup removes what OpenRevision wrote.
	cleanup func() error
	// files and dirs index an OpenRevision tree; lazy writes it.
	files map[string]plumbing.Hash
	dirs  map[string]bool
	links map[string]bool
	lazy  *lazyTree

	checked sync.Map // abs path -> error (nil when fine)
}

// OpenWorktree opens a repository checked out on disk.
func OpenWorktree(dir string) (*Repository, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving repository %s: %w", dir, err)
	}
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("opening repository: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("opening repository: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("opening repository: %s is not a directory", abs)
	}
	fs, err := securefs.MakeFsOnDiskSecure(abs)
	if err != nil {
		return nil, fmt.Errorf("opening repository %s: %w", abs, err)
	}
	r := &Repository{Root: abs, FS: fs, URLs: remoteURLs(abs), MaxFileSize: DefaultMaxFileSize, MaxDocuments: DefaultMaxDocuments}
	// .git is a directory, or a file in a linked worktree.
	if _, err := os.Lstat(filepath.Join(abs, ".git")); err == nil {
		r.GitDir = abs
	}
	return r, nil
}

// Abs returns the absolute FS path of a repository-relative path, or an
// error when the path escapes the repository.
func (r *Repository) Abs(rel string) (string, error) {
	clean, err := CleanRelative(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.Root, filepath.FromSlash(clean)), nil
}

// Rel returns the repository-relative, slash-separated form of an absolute path.
func (r *Repository) Rel(abs string) string {
	rel, err := filepath.Rel(r.Root, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(rel)
}

// CleanRelative normalises a source-relative path the way Flux treats
// spec.path ("./apps", "apps/", "/apps" all mean apps) and refuses one that
// climbs out of the root.
func CleanRelative(p string) (string, error) {
	slashed := filepath.ToSlash(p)
	clean := path.Clean("/" + slashed)
	// path.Clean on "/"+p can never climb above "/", so detect escapes on
	// the unrooted form instead.
	if c := path.Clean(slashed); c == ".." || strings.HasPrefix(c, "../") || strings.Contains(c, "/../") {
		return "", &PathError{Path: p, Reason: "escapes the repository root"}
	}
	clean = strings.TrimPrefix(clean, "/")
	if clean == "" {
		clean = "."
	}
	return clean, nil
}

// remoteURLs reads the remote URLs from .git/config without a git binary.
func remoteURLs(root string) []string {
	data, err := os.ReadFile(filepath.Join(root, ".git", "config"))
	if err != nil {
		return nil
	}
	var urls []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "url" {
			urls = append(urls, NormalizeURL(strings.TrimSpace(v)))
		}
	}
	return urls
}

// NormalizeURL reduces the many spellings of a Git URL to host/owner/repo so
// ssh://git@github.com/o/r.git and https://github.com/o/r compare equal.
func NormalizeURL(u string) string {
	u = strings.TrimSpace(strings.ToLower(u))
	for _, p := range []string{"https://", "http://", "ssh://", "git://", "git+ssh://"} {
		u = strings.TrimPrefix(u, p)
	}
	if at := strings.Index(u, "@"); at >= 0 && at < strings.Index(u+"/", "/") {
		u = u[at+1:]
	}
	// scp-like git@github.com:owner/repo
	if i := strings.Index(u, ":"); i >= 0 && !strings.Contains(u[:i], "/") {
		rest := u[i+1:]
		// ssh://host:22/owner/repo keeps a port; drop it.
		if j := strings.Index(rest, "/"); j > 0 && isDigits(rest[:j]) {
			rest = rest[j+1:]
		}
		u = u[:i] + "/" + rest
	}
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return u
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// IsThisRepository reports whether a GitRepository URL names this repository.
func (r *Repository) IsThisRepository(url string) bool {
	n := NormalizeURL(url)
	for _, u := range r.URLs {
		if u == n {
			return true
		}
	}
	return false
}
