package source

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// DefaultGitHubServerURL is the GitHub host of a run when GITHUB_SERVER_URL
// is unset (the CLI on a laptop, github.com workflows).
const DefaultGitHubServerURL = "https://github.com"

// GitAuth is what authenticates one Git fetch: HTTPS basic credentials or
// a bearer token. It never appears in an error or a log line.
type GitAuth struct {
	Username, Password string
	BearerToken        string
	// CABundle holds PEM certificates trusted for this fetch in addition
	// to the system's (a Secret's ca.crt, as source-controller reads it).
	CABundle []byte
	// From says where the credentials came from, for messages:
	// "the GitHub token", "Secret flux-system/git-auth".
	From string
}

func (a *GitAuth) sendsCredentials() bool {
	return a != nil && (a.Username != "" || a.Password != "" || a.BearerToken != "")
}

// Origin is the scheme, host and port a credential is bound to, normalised
// so that two spellings of one server compare equal and nothing else does.
type Origin struct {
	Scheme, Host, Port string
}

func (o Origin) String() string { return o.Scheme + "://" + net.JoinHostPort(o.Host, o.Port) }

// ParseOrigin returns the origin of an http(s) URL: scheme and host lower
// case, the default port made explicit. The host is what the URL connects
// to, so userinfo (https://github.com@evil.test/) never counts as a host.
func ParseOrigin(rawURL string) (Origin, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return Origin{}, err
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme != "http" && scheme != "https":
		return Origin{}, fmt.Errorf("%q is not an http(s) URL", rawURL)
	case u.Hostname() == "":
		return Origin{}, fmt.Errorf("%q has no host", rawURL)
	case port == "" && scheme == "https":
		port = "443"
	case port == "":
		port = "80"
	}
	return Origin{Scheme: scheme, Host: strings.ToLower(u.Hostname()), Port: port}, nil
}

// HostCredentials maps origins to the credentials sent to them and to
// nothing else. The zero value sends no credentials anywhere.
type HostCredentials struct {
	byOrigin map[Origin]GitAuth
}

// Add binds auth to the origin of rawURL. Only https origins take
// credentials: over plain http they would travel in clear text.
func (c *HostCredentials) Add(rawURL string, auth GitAuth) error {
	o, err := ParseOrigin(rawURL)
	if err != nil {
		return err
	}
	if o.Scheme != "https" {
		return fmt.Errorf("refusing to bind credentials to %s: not https", o)
	}
	if c.byOrigin == nil {
		c.byOrigin = map[Origin]GitAuth{}
	}
	c.byOrigin[o] = auth
	return nil
}

// For returns the credentials bound to the origin of rawURL, if any. Any
// URL that does not parse as http(s) — ssh, scp-like — gets none.
func (c HostCredentials) For(rawURL string) (GitAuth, bool) {
	o, err := ParseOrigin(rawURL)
	if err != nil {
		return GitAuth{}, false
	}
	a, ok := c.byOrigin[o]
	return a, ok
}

// Origins lists the origins that have credentials, for messages.
func (c HostCredentials) Origins() []string {
	out := make([]string, 0, len(c.byOrigin))
	for o := range c.byOrigin {
		out = append(out, o.String())
	}
	return out
}

// GitHubOptions say which host a GitHub token belongs to.
type GitHubOptions struct {
	// Token is the token; "" binds nothing.
	Token string
	// ServerURL is the run's GitHub (GITHUB_SERVER_URL); "" means
	// DefaultGitHubServerURL.
	ServerURL string
	// APIURL is its API (GITHUB_API_URL); GitHub Enterprise Server
	// serves it on another host or path. "" adds nothing.
	APIURL string
}

// GitHubCredentials binds a GitHub token to the run's GitHub host (and its
// API host), the only servers that issued it and should ever see it. A URL
// that is not https binds nothing: the token is then sent nowhere, which a
// refused fetch reports, rather than failing runs that fetch nothing.
func GitHubCredentials(o GitHubOptions) HostCredentials {
	var c HostCredentials
	if o.Token == "" {
		return c
	}
	// GitHub takes an installation or personal token as the password of
	// any user; x-access-token is the name its documentation uses.
	auth := GitAuth{Username: "x-access-token", Password: o.Token, From: "the GitHub token"}
	server := o.ServerURL
	if server == "" {
		server = DefaultGitHubServerURL
	}
	for _, u := range []string{server, o.APIURL} {
		if u != "" {
			_ = c.Add(u, auth)
		}
	}
	return c
}

// RunCredentials is how every front end (CLI and action) decides which
// credentials Git fetches may use: SLIPWAY_GIT_TOKEN, else token (the
// action's github-token input, "" for the CLI), else GITHUB_TOKEN — bound
// to the run's GitHub host only. Other hosts get credentials from their
// GitRepository's spec.secretRef, never from here.
func RunCredentials(getenv func(string) string, token string) HostCredentials {
	for _, t := range []string{getenv("SLIPWAY_GIT_TOKEN"), token, getenv("GITHUB_TOKEN")} {
		if t = strings.TrimSpace(t); t != "" {
			return GitHubCredentials(GitHubOptions{Token: t, ServerURL: getenv("GITHUB_SERVER_URL"), APIURL: getenv("GITHUB_API_URL")})
		}
	}
	return HostCredentials{}
}

// DropCrossOriginAuth is an http.Client CheckRedirect that removes the
// Authorization header when a redirect leaves the origin of the first
// request. net/http alone keeps it for the same host name on another port
// or scheme, and for subdomains; a credential is for one origin only.
func DropCrossOriginAuth(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	first, err1 := ParseOrigin(via[0].URL.String())
	next, err2 := ParseOrigin(req.URL.String())
	if err1 != nil || err2 != nil || first != next {
		req.Header.Del("Authorization")
	}
	return nil
}

// WithSafeRedirects returns a copy of c (nil: a new client) whose redirects
// never carry Authorization to another origin; c's own CheckRedirect, if
// any, still runs after.
func WithSafeRedirects(c *http.Client) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	next := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := DropCrossOriginAuth(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return out
}
