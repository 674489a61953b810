package source

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const testToken = "ghs_0123456789abcdefTOKEN"

func TestGitHubTokenOnlyForTheRunsHost(t *testing.T) {
	creds := GitHubCredentials(GitHubOptions{Token: testToken, ServerURL: "https://GitHub.com/", APIURL: "https://api.github.com"})
	gets := []string{
		"https://github.com/org/repo",
		"https://GITHUB.COM/org/repo.git",
		"https://github.com:443/org/repo",
		"https://x-access-token:other@github.com/org/repo",
		"https://api.github.com/repos/org/repo",
	}
	for _, u := range gets {
		if a, ok := creds.For(u); !ok || a.Password != testToken {
			t.Errorf("%s: the run's GitHub host must get the token", u)
		}
	}
	never := []string{
		"http://github.com/org/repo",            // clear text
		"https://github.com:8443/org/repo",      // another port
		"https://github.com.evil.test/org/repo", // look-alike suffix
		"https://evilgithub.com/org/repo",       // look-alike prefix
		"https://gist.github.com/org/repo",      // a subdomain is another host
		"https://github.com@evil.test/org/repo", // userinfo trick
		"https://github.com%2F@evil.test/org",   // encoded userinfo trick
		"https://evil.test/github.com/org/repo", // host in the path
		"https://github.com./org/repo",          // trailing dot: not the configured name
		"ssh://git@github.com/org/repo",         // SSH never takes the token
		"git@github.com:org/repo.git",           // scp-like SSH
		"file:///home/runner/work/github.com",   // local
		"github.com/org/repo",                   // no scheme
		"",
	}
	for _, u := range never {
		if _, ok := creds.For(u); ok {
			t.Errorf("%s must not get the GitHub token", u)
		}
	}
}

func TestGitHubEnterpriseHosts(t *testing.T) {
	creds := GitHubCredentials(GitHubOptions{Token: testToken, ServerURL: "https://ghe.corp.test", APIURL: "https://api.ghe.corp.test:8443/api/v3"})
	for u, want := range map[string]bool{
		"https://ghe.corp.test/org/repo":               true,
		"https://api.ghe.corp.test:8443/api/v3/repos":  true,
		"https://github.com/org/repo":                  false,
		"https://api.ghe.corp.test/api/v3/repos":       false,
		"https://ghe.corp.test.evil.test/org/repo.git": false,
	} {
		if _, ok := creds.For(u); ok != want {
			t.Errorf("%s: got credentials %v, want %v", u, ok, want)
		}
	}
}

func TestRunCredentials(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name   string
		env    map[string]string
		input  string
		want   string // password sent to github.com; "" none
		server string
	}{
		{"none", nil, "", "", ""},
		{"GITHUB_TOKEN", map[string]string{"GITHUB_TOKEN": "a"}, "", "a", ""},
		{"input over GITHUB_TOKEN", map[string]string{"GITHUB_TOKEN": "a"}, "b", "b", ""},
		{"SLIPWAY_GIT_TOKEN first", map[string]string{"GITHUB_TOKEN": "a", "SLIPWAY_GIT_TOKEN": "c"}, "b", "c", ""},
		{"GHES", map[string]string{"GITHUB_TOKEN": "a", "GITHUB_SERVER_URL": "https://ghe.corp.test"}, "", "", "https://ghe.corp.test"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := RunCredentials(env(tc.env), tc.input)
			a, ok := creds.For("https://github.com/o/r")
			if tc.want == "" && ok || tc.want != "" && a.Password != tc.want {
				t.Errorf("github.com gets %q (%v), want %q", a.Password, ok, tc.want)
			}
			if tc.server != "" {
				if _, ok := creds.For(tc.server + "/o/r"); !ok {
					t.Errorf("%s gets no token", tc.server)
				}
			}
		})
	}
	plain := RunCredentials(env(map[string]string{"GITHUB_TOKEN": "a", "GITHUB_SERVER_URL": "http://ghe.corp.test", "GITHUB_API_URL": "http://ghe.corp.test/api"}), "")
	if o := plain.Origins(); len(o) != 0 {
		t.Errorf("a token must not be bound to a plain http server, got %v", o)
	}
}

func TestDropCrossOriginAuth(t *testing.T) {
	mk := func(u string) *http.Request {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Request{URL: p, Header: http.Header{"Authorization": {"Basic x"}}}
	}
	for to, keep := range map[string]bool{
		"https://github.com/other":       true,
		"https://GITHUB.com:443/other":   true,
		"https://github.com:8443/other":  false,
		"http://github.com/other":        false,
		"https://objects.github.com/x":   false,
		"https://evil.test/x":            false,
		"https://github.com@evil.test/x": false,
		"https://github.com.evil.test/x": false,
	} {
		req := mk(to)
		if err := DropCrossOriginAuth(req, []*http.Request{mk("https://github.com/org/repo")}); err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("Authorization") != ""; got != keep {
			t.Errorf("redirect to %s: Authorization kept %v, want %v", to, got, keep)
		}
	}
}

func TestAuthFor(t *testing.T) {
	creds := GitHubCredentials(GitHubOptions{Token: testToken})
	f := &GitFetcher{Credentials: creds, Network: RunNetwork(nil, true)}
	secret := &GitAuth{Username: "u", Password: "p", From: "Secret ns/s"}

	a, err := f.authFor(GitRef{URL: "https://github.com/o/r"})
	if ba, ok := a.method.(*githttp.BasicAuth); err != nil || !ok || ba.Password != testToken {
		t.Errorf("github.com: %#v, %v", a.method, err)
	}
	if a, err := f.authFor(GitRef{URL: "https://evil.test/o/r"}); err != nil || a.method != nil {
		t.Errorf("another host must get nothing: %#v, %v", a.method, err)
	}
	// The secretRef wins, on any host, GitHub's included.
	for _, u := range []string{"https://git.corp.test/o/r", "https://github.com/o/r"} {
		a, err := f.authFor(GitRef{URL: u, Auth: secret})
		if ba, ok := a.method.(*githttp.BasicAuth); err != nil || !ok || ba.Password != "p" || a.from != "Secret ns/s" {
			t.Errorf("%s with secretRef: %#v, %v", u, a.method, err)
		}
	}
	bearer := &GitAuth{BearerToken: "bt"}
	if a, err := f.authFor(GitRef{URL: "https://git.corp.test/o/r", Auth: bearer}); err != nil || a.method.(*githttp.TokenAuth).Token != "bt" {
		t.Errorf("bearerToken: %#v, %v", a.method, err)
	}
	if _, err := f.authFor(GitRef{URL: "http://git.corp.test/o/r", Auth: secret}); !errors.Is(err, ErrCredentialsOverHTTP) {
		t.Errorf("credentials over http: %v", err)
	}
	for _, u := range []string{"ssh://git@github.com/o/r", "git@github.com:o/r.git"} {
		if _, err := f.authFor(GitRef{URL: u}); !errors.Is(err, ErrSSHNeedsSecret) {
			t.Errorf("%s without a key: %v, want ErrSSHNeedsSecret", u, err)
		}
		if _, err := f.authFor(GitRef{URL: u, SSH: &SSHAuth{Identity: []byte("k"), From: "Secret ns/s"}}); err == nil {
			t.Errorf("%s without known_hosts must be refused", u)
		}
	}
}

func TestGitAuthFromSecret(t *testing.T) {
	secret := func(data map[string]any) SecretLookup {
		return func(kind, ns, name string) (*unstructured.Unstructured, bool) {
			if kind != "Secret" || ns != "flux-system" || name != "git-auth" {
				return nil, false
			}
			return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "stringData": data}}, true
		}
	}
	a, ssh, err := GitAuthFromSecret(secret(map[string]any{"username": "u", "password": "p", "ca.crt": "PEM"}), "flux-system", "git-auth")
	if err != nil || a.Username != "u" || a.Password != "p" || string(a.CABundle) != "PEM" || ssh != nil || a.From != "Secret flux-system/git-auth" {
		t.Errorf("basic: %+v %+v %v", a, ssh, err)
	}
	a, ssh, err = GitAuthFromSecret(secret(map[string]any{"identity": "KEY", "known_hosts": "KH"}), "flux-system", "git-auth")
	if err != nil || ssh == nil || string(ssh.Identity) != "KEY" || string(ssh.KnownHosts) != "KH" || a.sendsCredentials() {
		t.Errorf("ssh: %+v %+v %v", a, ssh, err)
	}
	var sre *SecretRefError
	if _, _, err := GitAuthFromSecret(secret(nil), "flux-system", "other"); !errors.As(err, &sre) || !sre.NotFound {
		t.Errorf("missing Secret: %v", err)
	}
	if _, _, err := GitAuthFromSecret(secret(map[string]any{"foo": "bar"}), "flux-system", "git-auth"); !errors.As(err, &sre) || sre.NotFound {
		t.Errorf("Secret without credentials: %v", err)
	}
	_, _, err = GitAuthFromSecret(secret(map[string]any{"username": "u", "password": "hunter2"}), "flux-system", "git-auth")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = GitAuthFromSecret(secret(map[string]any{"bearerToken": "hunter2", "password": "hunter2"}), "flux-system", "git-auth")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("ambiguous Secret: %v (values must never be printed)", err)
	}
}

func TestCheckGitURL(t *testing.T) {
	for _, u := range []string{"https://github.com/o/r", "http://git.corp.test/o/r", "ssh://git@github.com/o/r", "git@github.com:o/r.git"} {
		if err := checkGitURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"file:///home/runner/work/secret", "/home/runner/work/secret", "./other", "git://github.com/o/r"} {
		if err := checkGitURL(u); !errors.Is(err, ErrUnsupportedGitURL) {
			t.Errorf("%s: %v, want ErrUnsupportedGitURL", u, err)
		}
	}
}
