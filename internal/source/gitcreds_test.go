package source_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil/gitserver"
)

const token = "ghs_RUNTOKEN0123456789"

// tokenHeader is the Authorization a fetch to the GitHub host carries.
var tokenHeader = "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))

// twoHosts starts the run's GitHub host and another host, both https on
// loopback (same address, other port: a different origin that net/http
// alone would treat as the same host on redirect), each serving one
// repository.
func twoHosts(t *testing.T) (github, other *gitserver.Server) {
	github, other = gitserver.NewTLS(t), gitserver.NewTLS(t)
	github.Seed("org/fleet.git", map[string]string{"fleet.yaml": "kind: Fleet\n"})
	other.Seed("evil/repo.git", map[string]string{"evil.yaml": "kind: Evil\n"})
	return github, other
}

func baseURL(s *gitserver.Server) string { return strings.TrimSuffix(s.URL("x"), "/x") }

func fetcher(t *testing.T, serverURL string, trust ...[]byte) *source.GitFetcher {
	creds := source.GitHubCredentials(source.GitHubOptions{Token: token, ServerURL: serverURL})
	f := &source.GitFetcher{CacheDir: t.TempDir(), Credentials: creds, Network: source.RunNetwork(nil, true)}
	for _, pem := range trust {
		f.CABundle = append(f.CABundle, pem...)
	}
	return f
}

func noCredentials(t *testing.T, s *gitserver.Server) {
	t.Helper()
	got := s.Authorizations()
	if len(got) == 0 {
		t.Fatal("the other host was never asked: the test proves nothing")
	}
	for _, h := range got {
		if h != "" {
			t.Errorf("the other host received Authorization %q", h)
		}
	}
}

func TestGitFetchSendsTokenOnlyToGitHubHost(t *testing.T) {
	github, other := twoHosts(t)
	f := fetcher(t, baseURL(github), github.CertPEM(), other.CertPEM())
	ctx := context.Background()

	if _, _, err := f.Fetch(ctx, source.GitRef{URL: github.URL("org/fleet.git"), Branch: "main"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range github.Authorizations() {
		if h != tokenHeader {
			t.Errorf("the GitHub host got Authorization %q, want the token", h)
		}
	}
	if _, _, err := f.Fetch(ctx, source.GitRef{URL: other.URL("evil/repo.git"), Branch: "main"}); err != nil {
		t.Fatal(err)
	}
	noCredentials(t, other)
}

func TestGitRedirectFromGitHubHostDropsToken(t *testing.T) {
	_, other := twoHosts(t)
	// The run's GitHub host answers every request with a redirect to the
	// other host, path and query kept.
	var asked []string
	github := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Header.Get("Authorization"))
		http.Redirect(w, r, baseURL(other)+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(github.Close)
	f := fetcher(t, github.URL, other.CertPEM())

	_, _, err := f.Fetch(context.Background(), source.GitRef{URL: github.URL + "/evil/repo.git", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) == 0 || asked[0] != tokenHeader {
		t.Fatalf("the GitHub host must be asked with the token first, got %q", asked)
	}
	noCredentials(t, other)
}

func TestGitSecretRefCredentialsForOtherHost(t *testing.T) {
	github, other := twoHosts(t)
	other.SetToken("other-password")
	f := fetcher(t, baseURL(github), other.CertPEM())
	ref := source.GitRef{URL: other.URL("evil/repo.git"), Branch: "main"}

	_, _, err := f.Fetch(context.Background(), ref)
	var ge *source.GitError
	if !errors.As(err, &ge) || !strings.Contains(ge.Hint, "spec.secretRef") {
		t.Fatalf("without a secretRef: want a GitError telling how to give credentials, got %v", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatal("the error shows the token")
	}
	noCredentials(t, other)

	ref.Auth = &source.GitAuth{Username: "git", Password: "other-password", From: "Secret flux-system/other"}
	if _, _, err := f.Fetch(context.Background(), ref); err != nil {
		t.Fatalf("with the secretRef's credentials: %v", err)
	}
}

// TestGitSSHWithSecretKeys fetches over SSH with Flux's identity and
// known_hosts Secret keys; without them, or with a host key the
// known_hosts does not list, nothing is offered to the server.
func TestGitSSHWithSecretKeys(t *testing.T) {
	srv := gitserver.New(t)
	srv.Seed("org/repo.git", map[string]string{"a.yaml": "kind: A\n"})
	x := srv.StartSSH()
	f := fetcher(t, "https://github.com")
	ref := source.GitRef{URL: x.URL("org/repo.git"), Branch: "main"}
	ctx := context.Background()

	if _, _, err := f.Fetch(ctx, ref); !errors.Is(err, source.ErrSSHNeedsSecret) {
		t.Fatalf("without a Secret: %v, want ErrSSHNeedsSecret", err)
	}
	if n := len(x.Offered()); n != 0 {
		t.Fatalf("without a Secret, %d keys were offered", n)
	}

	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, err := ssh.NewPublicKey(other.Public())
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(strings.Split(x.URL(""), "/")[2], "git@")
	ref.SSH = &source.SSHAuth{Identity: x.Identity(), KnownHosts: []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, otherPub) + "\n"), From: "Secret flux-system/ssh"}
	if _, _, err := f.Fetch(ctx, ref); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Fatalf("a host key known_hosts does not list must be refused, got %v", err)
	}
	if n := len(x.Offered()); n != 0 {
		t.Fatalf("the key was offered to a server whose host key is unknown (%d)", n)
	}

	ref.SSH.KnownHosts = x.KnownHosts()
	dir, _, err := f.Fetch(ctx, ref)
	if err != nil {
		t.Fatalf("with identity and known_hosts: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.yaml")); err != nil {
		t.Errorf("checkout lacks a.yaml: %v", err)
	}
	if len(x.Offered()) == 0 {
		t.Error("the server saw no client key")
	}
}
