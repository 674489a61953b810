package gitserver

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// workRepo is a non-bare clone-side repository with "origin" set to url.
func workRepo(t *testing.T, url string) *git.Repository {
	t.Helper()
	r, err := git.PlainInitWithOptions(t.TempDir(), &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		t.Fatal(err)
	}
	return r
}

var when = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// commitFile writes name=content in r's worktree and commits it.
func commitFile(t *testing.T, r *git.Repository, name, content string) plumbing.Hash {
	t.Helper()
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wt.Filesystem.Root(), name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add(name); err != nil {
		t.Fatal(err)
	}
	when = when.Add(time.Minute)
	h, err := wt.Commit("add "+name, &git.CommitOptions{
		Author: &object.Signature{Name: "t", Email: "t@example.com", When: when},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func push(r *git.Repository, auth transport.AuthMethod, force bool) error {
	return r.Push(&git.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{"refs/heads/main:refs/heads/main"},
		Auth:       auth,
		Force:      force,
	})
}

func clone(t *testing.T, url string, auth transport.AuthMethod) (*git.Repository, error) {
	t.Helper()
	return git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: url, Auth: auth})
}

func headOf(t *testing.T, r *git.Repository) plumbing.Hash {
	t.Helper()
	ref, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash()
}

// bareBranch reads branch in the served bare repository, on disk.
func bareBranch(t *testing.T, s *Server, name, branch string) plumbing.Hash {
	t.Helper()
	r, err := git.PlainOpen(s.Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("bare %s: %v", branch, err)
	}
	return ref.Hash()
}

func TestPushToEmptyThenClone(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/config.git")
	url := s.URL("acme/config.git")

	if _, err := clone(t, url, nil); !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		t.Fatalf("clone of empty repository: got %v, want ErrEmptyRemoteRepository", err)
	}

	local := workRepo(t, url)
	c1 := commitFile(t, local, "README.md", "hello\n")
	if err := push(local, nil, false); err != nil {
		t.Fatalf("first push: %v", err)
	}
	if got := s.Pushes("acme/config.git"); got != 1 {
		t.Errorf("Pushes = %d, want 1", got)
	}
	if got := bareBranch(t, s, "acme/config.git", "main"); got != c1 {
		t.Errorf("bare main = %s, want %s", got, c1)
	}

	cloned, err := clone(t, url, nil)
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	if got := headOf(t, cloned); got != c1 {
		t.Errorf("cloned HEAD = %s, want %s", got, c1)
	}
	wt, _ := cloned.Worktree()
	data, err := os.ReadFile(filepath.Join(wt.Filesystem.Root(), "README.md"))
	if err != nil || string(data) != "hello\n" {
		t.Errorf("cloned README.md = %q, %v", data, err)
	}
}

func TestCloneCommitPushAndFetch(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/config.git")
	url := s.URL("acme/config.git")

	first := workRepo(t, url)
	c1 := commitFile(t, first, "a.txt", "a")
	if err := push(first, nil, false); err != nil {
		t.Fatal(err)
	}

	second, err := clone(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2 := commitFile(t, second, "b.txt", "b")
	if err := push(second, nil, false); err != nil {
		t.Fatalf("second push: %v", err)
	}
	if got := bareBranch(t, s, "acme/config.git", "main"); got != c2 {
		t.Errorf("bare main = %s, want %s", got, c2)
	}
	if got := s.Pushes("acme/config.git"); got != 2 {
		t.Errorf("Pushes = %d, want 2", got)
	}

	// first already has c1, so this fetch negotiates with a have.
	if err := first.Fetch(&git.FetchOptions{RemoteName: "origin"}); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	ref, err := first.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Hash() != c2 {
		t.Errorf("origin/main = %s, want %s", ref.Hash(), c2)
	}
	commit, err := first.CommitObject(c2)
	if err != nil || len(commit.ParentHashes) != 1 || commit.ParentHashes[0] != c1 {
		t.Errorf("fetched commit %s: parents %v, err %v", c2, commit, err)
	}
	if err := first.Fetch(&git.FetchOptions{RemoteName: "origin"}); !errors.Is(err, git.NoErrAlreadyUpToDate) {
		t.Errorf("second fetch: got %v, want NoErrAlreadyUpToDate", err)
	}
}

func TestToken(t *testing.T) {
	const token = "ghs_s3cret"
	s := New(t)
	s.CreateBare("acme/config.git")
	s.SetToken(token)
	url := s.URL("acme/config.git")

	local := workRepo(t, url)
	commitFile(t, local, "a.txt", "a")
	for _, tc := range []struct {
		name string
		auth transport.AuthMethod
	}{
		{"missing", nil},
		{"wrong", &githttp.BasicAuth{Username: "x-access-token", Password: "nope"}},
	} {
		err := push(local, tc.auth, false)
		if !errors.Is(err, transport.ErrAuthenticationRequired) {
			t.Errorf("%s token: push error %v, want ErrAuthenticationRequired", tc.name, err)
		}
		if _, err := clone(t, url, tc.auth); !errors.Is(err, transport.ErrAuthenticationRequired) {
			t.Errorf("%s token: clone error %v, want ErrAuthenticationRequired", tc.name, err)
		}
	}
	if s.Pushes("acme/config.git") != 0 {
		t.Error("an unauthenticated push was counted")
	}

	res, err := http.Get(url + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("unauthenticated GET: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}

	auth := &githttp.BasicAuth{Username: "anyone", Password: token}
	if err := push(local, auth, false); err != nil {
		t.Fatalf("push with token: %v", err)
	}
	if _, err := clone(t, url, auth); err != nil {
		t.Fatalf("clone with token: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/config.git")
	url := s.URL("acme/config.git")
	local := workRepo(t, url)
	c1 := commitFile(t, local, "a.txt", "a")
	if err := push(local, nil, false); err != nil {
		t.Fatal(err)
	}

	s.SetReadOnly("acme/config.git", true)
	commitFile(t, local, "b.txt", "b")
	if err := push(local, nil, false); !errors.Is(err, transport.ErrAuthorizationFailed) {
		t.Fatalf("push to read-only repository: got %v, want ErrAuthorizationFailed", err)
	}
	if got := bareBranch(t, s, "acme/config.git", "main"); got != c1 {
		t.Errorf("read-only main moved to %s", got)
	}
	if _, err := clone(t, url, nil); err != nil {
		t.Errorf("clone of read-only repository: %v", err)
	}

	s.SetReadOnly("acme/config.git", false)
	if err := push(local, nil, false); err != nil {
		t.Fatalf("push after SetReadOnly(false): %v", err)
	}
	if got := s.Pushes("acme/config.git"); got != 2 {
		t.Errorf("Pushes = %d, want 2", got)
	}
}

func TestNonFastForwardRejected(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/config.git")
	url := s.URL("acme/config.git")
	local := workRepo(t, url)
	commitFile(t, local, "a.txt", "a")
	if err := push(local, nil, false); err != nil {
		t.Fatal(err)
	}
	other, err := clone(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	theirs := commitFile(t, other, "theirs.txt", "theirs")
	if err := push(other, nil, false); err != nil {
		t.Fatal(err)
	}

	commitFile(t, local, "mine.txt", "mine")
	if err := push(local, nil, false); err == nil {
		t.Fatal("diverged push succeeded")
	}
	// A forced push skips go-git's own check, so this is the server refusing.
	err = push(local, nil, true)
	if err == nil || !strings.Contains(err.Error(), "non-fast-forward") {
		t.Fatalf("forced diverged push: got %v, want a non-fast-forward rejection", err)
	}
	if got := bareBranch(t, s, "acme/config.git", "main"); got != theirs {
		t.Errorf("bare main = %s, want it left at %s", got, theirs)
	}
	if got := s.Pushes("acme/config.git"); got != 2 {
		t.Errorf("Pushes = %d, want 2 (rejected pushes do not count)", got)
	}

	// The usual recovery: fetch, offering a have the server never received
	// (the rejected push above did upload "mine").
	commitFile(t, local, "unpushed.txt", "unpushed")
	if err := local.Fetch(&git.FetchOptions{RemoteName: "origin"}); err != nil {
		t.Fatalf("fetch after rejection: %v", err)
	}
	ref, err := local.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	if err != nil || ref.Hash() != theirs {
		t.Errorf("origin/main = %v, %v; want %s", ref, err, theirs)
	}
}

// TestReferenceCommands drives receive-pack directly with go-git's HTTP
// transport to reach what a well-behaved client never sends: a stale old
// value, plus pack-less creates and deletes.
func TestReferenceCommands(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/config.git")
	url := s.URL("acme/config.git")
	local := workRepo(t, url)
	c1 := commitFile(t, local, "a.txt", "a")
	if err := push(local, nil, false); err != nil {
		t.Fatal(err)
	}

	ep, err := transport.NewEndpoint(url)
	if err != nil {
		t.Fatal(err)
	}
	send := func(cmds ...*packp.Command) error {
		t.Helper()
		sess, err := githttp.DefaultClient.NewReceivePackSession(ep, nil)
		if err != nil {
			t.Fatal(err)
		}
		adv, err := sess.AdvertisedReferences()
		if err != nil {
			t.Fatal(err)
		}
		req := packp.NewReferenceUpdateRequestFromCapabilities(adv.Capabilities)
		req.Commands = cmds
		_, err = sess.ReceivePack(t.Context(), req)
		return err
	}
	stale := plumbing.NewHash(strings.Repeat("ab", 20))

	err = send(&packp.Command{Name: "refs/heads/other", Old: stale, New: c1})
	if err == nil || !strings.Contains(err.Error(), "stale info") {
		t.Errorf("create with a stale old value: got %v, want stale info", err)
	}
	err = send(&packp.Command{Name: "refs/heads/main", Old: stale, New: c1})
	if err == nil || !strings.Contains(err.Error(), "stale info") {
		t.Errorf("update with a stale old value: got %v, want stale info", err)
	}
	if err := send(&packp.Command{Name: "refs/heads/other", New: c1}); err != nil {
		t.Fatalf("pack-less create: %v", err)
	}
	if got := bareBranch(t, s, "acme/config.git", "other"); got != c1 {
		t.Errorf("other = %s, want %s", got, c1)
	}
	if err := send(&packp.Command{Name: "refs/heads/other", Old: c1}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	bare, _ := git.PlainOpen(s.Dir("acme/config.git"))
	if _, err := bare.Reference("refs/heads/other", false); !errors.Is(err, plumbing.ErrReferenceNotFound) {
		t.Errorf("deleted branch still there: %v", err)
	}
	if got := s.Pushes("acme/config.git"); got != 3 {
		t.Errorf("Pushes = %d, want 3", got)
	}
}

func TestTwoRepositories(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/one.git")
	s.CreateBare("acme/two.git")

	one := workRepo(t, s.URL("acme/one.git"))
	c1 := commitFile(t, one, "one.txt", "1")
	if err := push(one, nil, false); err != nil {
		t.Fatal(err)
	}
	// The first branch pushed to an empty repository becomes its HEAD.
	two := workRepo(t, s.URL("acme/two.git"))
	c2 := commitFile(t, two, "two.txt", "2")
	if err := two.Push(&git.PushOptions{RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/trunk"}}); err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]plumbing.Hash{"acme/one.git": c1, "acme/two.git": c2} {
		r, err := clone(t, s.URL(name), nil)
		if err != nil {
			t.Fatalf("clone %s: %v", name, err)
		}
		if got := headOf(t, r); got != want {
			t.Errorf("%s HEAD = %s, want %s", name, got, want)
		}
		if got := s.Pushes(name); got != 1 {
			t.Errorf("%s Pushes = %d, want 1", name, got)
		}
	}
	// Concurrent clones of both repositories, for the race detector.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		name := []string{"acme/one.git", "acme/two.git"}[i%2]
		dir := t.TempDir()
		wg.Go(func() {
			_, err := git.PlainClone(dir, true, &git.CloneOptions{URL: s.URL(name)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent clone: %v", err)
		}
	}

	if _, err := clone(t, s.URL("acme/three.git"), nil); !errors.Is(err, transport.ErrRepositoryNotFound) {
		t.Errorf("clone of unknown repository: got %v, want ErrRepositoryNotFound", err)
	}
}

// TestHTTPProtocol checks the wire details go-git does not exercise: the
// advertisement framing and content types, and gzip-encoded requests.
func TestHTTPProtocol(t *testing.T) {
	s := New(t)
	s.CreateBare("acme/config.git")
	url := s.URL("acme/config.git")
	local := workRepo(t, url)
	c1 := commitFile(t, local, "a.txt", "a")
	if err := push(local, nil, false); err != nil {
		t.Fatal(err)
	}

	res, err := http.Get(url + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/x-git-upload-pack-advertisement" {
		t.Errorf("advertisement content type %q", ct)
	}
	if !bytes.HasPrefix(body, []byte("001e# service=git-upload-pack\n0000")) || !bytes.Contains(body, []byte(c1.String()+" refs/heads/main")) {
		t.Errorf("advertisement body:\n%s", body)
	}

	req := packp.NewUploadPackRequest()
	req.Wants = []plumbing.Hash{c1}
	var raw bytes.Buffer
	if err := req.UploadRequest.Encode(&raw); err != nil {
		t.Fatal(err)
	}
	raw.WriteString("0009done\n")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	post, _ := http.NewRequest(http.MethodPost, url+"/git-upload-pack", &zipped)
	post.Header.Set("Content-Type", "application/x-git-upload-pack-request")
	post.Header.Set("Content-Encoding", "gzip")
	res, err = http.DefaultClient.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-git-upload-pack-result" {
		t.Fatalf("gzip upload-pack: %d %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if !bytes.HasPrefix(body, []byte("0008NAK\nPACK")) {
		t.Errorf("gzip upload-pack body starts %q, want NAK then a pack", body[:min(len(body), 16)])
	}

	res, err = http.Get(url + "/info/refs") // dumb protocol
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("dumb-protocol GET: %d, want 403", res.StatusCode)
	}
}
