// Package gitserver serves local bare Git repositories over Git's smart HTTP
// protocol on loopback, so tests can clone from and push to a real remote
// without reaching GitHub and without the git binary. The protocol side is
// go-git's own server implementation; this package adds the HTTP routes,
// token authentication, read-only repositories and push accounting.
//
// Pushes behave like a protected GitHub branch: each command's old value must
// match the current reference and branches only move forward, even when the
// client forces. Objects of a rejected push stay in the object store
// (unreferenced), unlike git's quarantine; tests should not rely on them.
//
// Test code only.
package gitserver

import (
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// DefaultBranch is the branch HEAD of a new bare repository points at, the
// same default GitHub uses. The first push of another branch to an empty
// repository moves HEAD to that branch, as GitHub does.
const DefaultBranch = plumbing.Main

// Server is a Git smart-HTTP server for tests. Create it with New.
type Server struct {
	t      testing.TB
	http   *httptest.Server
	root   string
	loader server.Loader
	git    transport.Transport // go-git's protocol implementation over loader

	mu    sync.Mutex // guards token and repos
	token string
	repos map[string]*repo
}

// repo is one served bare repository.
type repo struct {
	name string
	dir  string

	// gitMu serialises every protocol request on this repository: go-git's
	// filesystem storage is not safe for concurrent writers, and a push must
	// compare and update its references atomically.
	gitMu sync.Mutex

	// Guarded by Server.mu.
	readOnly bool
	pushes   int
}

// New starts a server on 127.0.0.1; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	root := t.TempDir()
	loader := server.NewFilesystemLoader(osfs.New(root))
	s := &Server{
		t:      t,
		root:   root,
		loader: loader,
		git:    server.NewServer(loader),
		repos:  map[string]*repo{},
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.http.Close)
	return s
}

// SetToken makes every request require HTTP basic authentication with token
// as the password (any user name), the way GitHub accepts installation
// tokens. An empty token turns authentication off.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// CreateBare creates an empty bare repository served at URL(name) and
// returns its directory. name is a slash-separated path such as
// "owner/repo.git"; an invalid or duplicate name fails the test.
func (s *Server) CreateBare(name string) (dir string) {
	s.t.Helper()
	if !validName(name) {
		s.t.Fatalf("gitserver: invalid repository name %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[name]; ok {
		s.t.Fatalf("gitserver: repository %q already exists", name)
	}
	dir = filepath.Join(s.root, filepath.FromSlash(name))
	_, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: DefaultBranch},
	})
	if err != nil {
		s.t.Fatalf("gitserver: creating bare repository %q: %v", name, err)
	}
	s.repos[name] = &repo{name: name, dir: dir}
	return dir
}

// URL is the clone URL of the repository name, e.g.
// http://127.0.0.1:PORT/owner/repo.git.
func (s *Server) URL(name string) string {
	return s.http.URL + "/" + name
}

// Dir is the directory of the bare repository name, for tests to open with
// go-git and inspect what was pushed.
func (s *Server) Dir(name string) string {
	return s.lookup(name).dir
}

// Pushes is the number of receive-pack requests to name that updated every
// reference they asked for.
func (s *Server) Pushes(name string) int {
	r := s.lookup(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.pushes
}

// SetReadOnly makes pushes to name fail with 403 Forbidden, like a token
// without write access on GitHub. Fetches keep working.
func (s *Server) SetReadOnly(name string, ro bool) {
	r := s.lookup(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	r.readOnly = ro
}

func (s *Server) lookup(name string) *repo {
	s.t.Helper()
	s.mu.Lock()
	r, ok := s.repos[name]
	s.mu.Unlock()
	if !ok {
		s.t.Fatalf("gitserver: unknown repository %q (create it with CreateBare)", name)
	}
	return r
}

// validName accepts clean, relative, slash-separated paths only, so a name
// can neither escape the server's root nor alias another repository.
func validName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "." || part == ".." {
			return false
		}
	}
	return true
}
