package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrSSHNeedsSecret means an SSH Git source names no key: slipway never
// uses the runner's own SSH agent, keys or known_hosts for repository
// content, so the source must bring its own.
var ErrSSHNeedsSecret = errors.New("an SSH source needs a spec.secretRef Secret with the keys identity (private key) and known_hosts")

// ErrCredentialsOverHTTP refuses to send a Secret's credentials in clear text.
var ErrCredentialsOverHTTP = errors.New("refusing to send spec.secretRef credentials over plain http: use an https URL")

// ErrUnsupportedGitURL refuses Git URLs source-controller does not fetch
// either: file:// and local paths would read the runner's disk (and run
// git-upload-pack there), git:// is unauthenticated and unencrypted.
var ErrUnsupportedGitURL = errors.New("only https, http and ssh Git URLs are fetched (as source-controller does)")

// checkGitURL refuses a URL before any connection unless its scheme is
// one source-controller supports.
func checkGitURL(u string) error {
	ep, err := transport.NewEndpoint(strings.TrimSpace(u))
	if err != nil {
		return err
	}
	switch ep.Protocol {
	case "https", "http", "ssh":
		return nil
	}
	return fmt.Errorf("%w; this one is %s", ErrUnsupportedGitURL, ep.Protocol)
}

// fetchAuth is what one fetch sends, decided before any connection.
type fetchAuth struct {
	method   transport.AuthMethod
	caBundle []byte
	// from names where the credentials came from; "" means none are sent.
	from string
}

// authFor decides what a fetch of ref may send: the credentials its
// secretRef gives, else those bound to its URL's origin (the run's GitHub
// host), else nothing. SSH sources need a key and known hosts of their own.
func (f *GitFetcher) authFor(ref GitRef) (fetchAuth, error) {
	a := fetchAuth{caBundle: f.CABundle}
	if IsSSHURL(ref.URL) {
		return f.sshAuth(ref)
	}
	auth := ref.Auth
	if auth == nil {
		if bound, ok := f.Credentials.For(ref.URL); ok {
			auth = &bound
		}
	}
	if auth == nil {
		return a, nil
	}
	if len(auth.CABundle) > 0 {
		a.caBundle = append(append([]byte{}, a.caBundle...), append([]byte("\n"), auth.CABundle...)...)
	}
	if !auth.sendsCredentials() {
		return a, nil
	}
	if o, err := ParseOrigin(ref.URL); err != nil || o.Scheme != "https" {
		return fetchAuth{}, ErrCredentialsOverHTTP
	}
	a.from = auth.From
	if auth.BearerToken != "" {
		a.method = &githttp.TokenAuth{Token: auth.BearerToken}
	} else {
		a.method = &githttp.BasicAuth{Username: auth.Username, Password: auth.Password}
	}
	return a, nil
}

func (f *GitFetcher) sshAuth(ref GitRef) (fetchAuth, error) {
	if ref.SSH == nil || len(ref.SSH.Identity) == 0 {
		return fetchAuth{}, ErrSSHNeedsSecret
	}
	if len(ref.SSH.KnownHosts) == 0 {
		return fetchAuth{}, fmt.Errorf("%s has an identity but no known_hosts: slipway does not trust unknown host keys", ref.SSH.From)
	}
	user := "git"
	if ep, err := transport.NewEndpoint(ref.URL); err == nil && ep.User != "" {
		user = ep.User
	}
	keys, err := gitssh.NewPublicKeys(user, ref.SSH.Identity, ref.SSH.Password)
	if err != nil {
		// The parser's message never holds key material; say which Secret.
		return fetchAuth{}, fmt.Errorf("%s: identity is not a usable private key", ref.SSH.From)
	}
	cb, err := knownHostsCallback(ref.SSH.KnownHosts)
	if err != nil {
		return fetchAuth{}, fmt.Errorf("%s: known_hosts: %w", ref.SSH.From, err)
	}
	keys.HostKeyCallback = cb
	return fetchAuth{method: keys, from: ref.SSH.From}, nil
}

// knownHostsCallback parses known_hosts content; the knownhosts package
// reads files only, so the content passes through a temporary one.
func knownHostsCallback(content []byte) (ssh.HostKeyCallback, error) {
	tmp, err := os.CreateTemp("", "slipway-known-hosts-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(content)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, werr
	}
	return knownhosts.New(tmp.Name())
}

// IsSSHURL reports whether a Git URL is fetched over SSH: ssh:// or the
// scp-like user@host:path.
func IsSSHURL(u string) bool {
	ep, err := transport.NewEndpoint(strings.TrimSpace(u))
	return err == nil && ep.Protocol == "ssh"
}

// fetchError wraps a failed fetch, telling the user how to give
// credentials when the server asked for some slipway did not send.
func (f *GitFetcher) fetchError(url string, a fetchAuth, err error) error {
	ge := &GitError{URL: url, Err: err}
	denied := errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) ||
		errors.Is(err, transport.ErrRepositoryNotFound)
	if denied && a.from == "" {
		ge.Hint = "no credentials were sent: the GitHub token goes only to the run's GitHub host; give this source a spec.secretRef Secret with username and password (or bearerToken), committed SOPS-encrypted, passed with --external-objects, or read from the cluster"
	} else if denied {
		ge.Hint = "credentials from " + a.from + " were sent"
	}
	return ge
}

var safeGitHTTP sync.Once

// installSafeGitHTTP replaces go-git's HTTP(S) transport, once per
// process, with one whose redirects never carry Authorization to another
// origin and whose connections obey the fetch's AddressPolicy. go-git
// takes its HTTP client only from this process-wide registry (the one
// global slipway keeps), and its default follows net/http, which keeps the
// header for the same host name on another port or scheme and for
// subdomains. The policy cannot live in that global: each GitFetcher has
// its own, so Fetch puts its guard in the request context (go-git passes
// the context to every request) and the transport reads it from there; a
// request without one gets the guarded default.
func installSafeGitHTTP() {
	safeGitHTTP.Do(func() {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = func(req *http.Request) (*url.URL, error) { return guardFrom(req.Context()).Proxy(req) }
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return guardFrom(ctx).DialContext(ctx, network, addr)
		}
		c := githttp.NewClient(WithSafeRedirects(&http.Client{Transport: tr}))
		client.InstallProtocol("https", c)
		client.InstallProtocol("http", c)
	})
}

type guardKey struct{}

// defaultGuard serves a request that carries no guard (none does: Fetch
// always adds one); it refuses what the zero policy refuses, and uses no proxy.
var defaultGuard = newGuard(NetworkOptions{Getenv: func(string) string { return "" }})

func withGuard(ctx context.Context, g *guard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

func guardFrom(ctx context.Context) *guard {
	if g, ok := ctx.Value(guardKey{}).(*guard); ok {
		return g
	}
	return defaultGuard
}

// checkSSHHost applies the policy to an SSH source's host before go-git
// connects: go-git's SSH transport dials by itself, with no hook, so the
// host's addresses are resolved and checked here.
func checkSSHHost(ctx context.Context, p AddressPolicy, rawURL string) error {
	if p.AllowLocal {
		return nil
	}
	ep, err := transport.NewEndpoint(strings.TrimSpace(rawURL))
	if err != nil {
		return err
	}
	if err := p.CheckHost(ep.Host); err != nil {
		return err
	}
	if _, err := netip.ParseAddr(ep.Host); err == nil {
		return nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", ep.Host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if err := p.CheckAddr(ip, ep.Host+" ("+ip.String()+")"); err != nil {
			return err
		}
	}
	return nil
}
