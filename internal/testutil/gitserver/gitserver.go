// Package gitserver serves local bare Git repositories over Git's smart HTTP
// protocol on loopback (plain or https, NewTLS; fetches over SSH too,
// StartSSH), so tests can clone from and push to a real remote without
// reaching GitHub and without the git binary. It records the Authorization
// header of every request, for tests about where credentials go. The protocol side is
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
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-billy/v5/util"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
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

	mu             sync.Mutex // guards token, repos and authorizations
	token          string
	repos          map[string]*repo
	authorizations []string
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
func New(t testing.TB) *Server { return start(t, false) }

// NewTLS starts a server on https://127.0.0.1 with httptest's certificate
// (valid for 127.0.0.1); CertPEM is what a client must trust.
func NewTLS(t testing.TB) *Server { return start(t, true) }

func start(t testing.TB, tls bool) *Server {
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
	h := http.HandlerFunc(s.record)
	if tls {
		s.http = httptest.NewTLSServer(h)
	} else {
		s.http = httptest.NewServer(h)
	}
	t.Cleanup(s.http.Close)
	return s
}

// record notes the Authorization header of every request, then serves it.
func (s *Server) record(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.authorizations = append(s.authorizations, r.Header.Get("Authorization"))
	s.mu.Unlock()
	s.serveHTTP(w, r)
}

// Handler serves the repositories, for a test that puts them behind its
// own server; requests through it are recorded as well.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.record) }

// Authorizations returns the Authorization header of every request served
// so far ("" for a request without one), in order.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authorizations...)
}

// CertPEM is the server certificate of a NewTLS server, PEM encoded.
func (s *Server) CertPEM() []byte {
	c := s.http.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
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

// Seed creates the repository name with one commit of files (path ->
// content) on DefaultBranch, and returns the commit. Objects are copied
// into the bare repository directly: no push, no git binary.
func (s *Server) Seed(name string, files map[string]string) plumbing.Hash {
	s.t.Helper()
	fail := func(err error) { s.t.Fatalf("gitserver: seeding %q: %v", name, err) }
	bare, err := git.PlainOpen(s.CreateBare(name))
	if err != nil {
		fail(err)
	}
	work, err := git.PlainInit(s.t.TempDir(), false)
	if err != nil {
		fail(err)
	}
	wt, err := work.Worktree()
	if err != nil {
		fail(err)
	}
	for p, content := range files {
		if err := util.WriteFile(wt.Filesystem, p, []byte(content), 0o644); err != nil {
			fail(err)
		}
		if _, err := wt.Add(p); err != nil {
			fail(err)
		}
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	h, err := wt.Commit("seed", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		fail(err)
	}
	objects, err := work.Storer.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		fail(err)
	}
	if err := objects.ForEach(func(o plumbing.EncodedObject) error {
		_, err := bare.Storer.SetEncodedObject(o)
		return err
	}); err != nil {
		fail(err)
	}
	if err := bare.Storer.SetReference(plumbing.NewHashReference(DefaultBranch, h)); err != nil {
		fail(err)
	}
	return h
}
