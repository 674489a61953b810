package source_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipwayhq/slipway/internal/source"
)

func TestAddressPolicyRefusesTheRunnersOwnAddresses(t *testing.T) {
	refused := map[string]string{
		"127.0.0.1":        source.ClassLoopback,
		"127.8.9.10":       source.ClassLoopback,
		"::1":              source.ClassLoopback,
		"::ffff:127.0.0.1": source.ClassLoopback,
		"169.254.169.254":  source.ClassLinkLocal,
		"fe80::1":          source.ClassLinkLocal,
		"0.0.0.0":          source.ClassUnspecified,
		"::":               source.ClassUnspecified,
		"fd00:ec2::254":    source.ClassMetadata,
	}
	for ip, class := range refused {
		err := source.AddressPolicy{}.CheckAddr(netip.MustParseAddr(ip), ip)
		var ae *source.AddressError
		if !errors.As(err, &ae) || ae.Class != class {
			t.Errorf("%s: got %v, want a %s AddressError", ip, err, class)
		}
		if err := (source.AddressPolicy{AllowLocal: true}).CheckAddr(netip.MustParseAddr(ip), ip); err != nil {
			t.Errorf("%s with AllowLocal: %v", ip, err)
		}
	}
	// Self-hosted runners reach their Git servers on private networks.
	for _, ip := range []string{"10.0.0.1", "172.16.5.4", "192.168.1.1", "140.82.112.3", "fd00:ec2::253", "2001:db8::1"} {
		if err := (source.AddressPolicy{}).CheckAddr(netip.MustParseAddr(ip), ip); err != nil {
			t.Errorf("%s: %v", ip, err)
		}
	}
}

func TestAddressPolicyRefusesLocalNames(t *testing.T) {
	for _, h := range []string{"localhost", "LOCALHOST.", "git.localhost", "metadata.google.internal", "[::1]", "169.254.169.254"} {
		if err := (source.AddressPolicy{}).CheckHost(h); err == nil {
			t.Errorf("%s: allowed", h)
		}
		if err := (source.AddressPolicy{AllowLocal: true}).CheckHost(h); err != nil {
			t.Errorf("%s with AllowLocal: %v", h, err)
		}
	}
	for _, h := range []string{"github.com", "git.internal.example", "localhost.example.com"} {
		if err := (source.AddressPolicy{}).CheckHost(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
}

// countingServer is an HTTP server on loopback that counts the connections
// it accepts: a refused request must not even connect.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			n.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s, &n
}

func get(t *testing.T, n source.NetworkOptions, u string) (string, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	resp, err := (&http.Client{Transport: n.Transport()}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

func TestTransportRefusesLoopbackBeforeConnecting(t *testing.T) {
	s, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "secret") }))
	port := s.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{s.URL + "/index.yaml", "http://localhost:" + strconv.Itoa(port) + "/index.yaml", "http://[::ffff:127.0.0.1]:" + strconv.Itoa(port) + "/"} {
		_, err := get(t, source.NetworkOptions{}, u)
		var ae *source.AddressError
		if !errors.As(err, &ae) || ae.Class != source.ClassLoopback {
			t.Fatalf("%s: got %v, want a loopback AddressError", u, err)
		}
		if !strings.Contains(err.Error(), "--allow-local-sources") {
			t.Errorf("the error does not name the opt-in: %v", err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the server saw %d connections", n)
	}
	body, err := get(t, source.RunNetwork(nil, true), s.URL)
	if err != nil || body != "secret" {
		t.Fatalf("with the opt-in: %q, %v", body, err)
	}
}

// A loopback proxy is the user's choice: requests for other hosts go
// through it, while a redirect to loopback itself (which no proxy serves)
// is refused.
func TestTransportUsesLoopbackProxyButRefusesRedirectToLoopback(t *testing.T) {
	target, targetConns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metadata") }))
	var proxied atomic.Value
	proxy, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Store(r.URL.String())
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, target.URL+"/latest/meta-data", http.StatusFound)
			return
		}
		io.WriteString(w, "via proxy")
	}))
	env := map[string]string{"HTTP_PROXY": proxy.URL}
	n := source.RunNetwork(func(k string) string { return env[k] }, false)

	body, err := get(t, n, "http://charts.example.test/index.yaml")
	if err != nil || body != "via proxy" {
		t.Fatalf("through the proxy: %q, %v", body, err)
	}
	if p, _ := proxied.Load().(string); p != "http://charts.example.test/index.yaml" {
		t.Fatalf("the proxy saw %q", p)
	}
	_, err = get(t, n, "http://charts.example.test/redirect")
	var ae *source.AddressError
	if !errors.As(err, &ae) {
		t.Fatalf("redirect to loopback: got %v", err)
	}
	if c := targetConns.Load(); c != 0 {
		t.Fatalf("the redirect target saw %d connections", c)
	}
	// A proxied request to a metadata name is refused by name: slipway
	// never resolves it itself.
	if _, err := get(t, n, "http://metadata.google.internal/computeMetadata/v1/"); !errors.As(err, &ae) {
		t.Fatalf("metadata through the proxy: %v", err)
	}
}

// Git fetches go through go-git's process-wide transport; the fetcher's
// guard still applies there: a Git host reached through the user's
// loopback proxy that redirects to loopback is refused at the redirect.
func TestGitFetchRefusesRedirectToLoopback(t *testing.T) {
	target, targetConns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "secret") }))
	var proxied atomic.Int32
	proxy, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		http.Redirect(w, r, target.URL+r.URL.Path+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	env := map[string]string{"HTTP_PROXY": proxy.URL}
	f := &source.GitFetcher{CacheDir: t.TempDir(), Network: source.RunNetwork(func(k string) string { return env[k] }, false)}
	_, _, err := f.Fetch(context.Background(), source.GitRef{URL: "http://git.example.test/org/apps.git", Branch: "main"})
	var ae *source.AddressError
	if !errors.As(err, &ae) || ae.Class != source.ClassLoopback {
		t.Fatalf("got %v, want the redirect to loopback refused", err)
	}
	if proxied.Load() == 0 || targetConns.Load() != 0 {
		t.Fatalf("proxy saw %d requests, loopback target %d connections", proxied.Load(), targetConns.Load())
	}
}

// SSH sources are judged before go-git dials: by name, literal address or
// what the name resolves to.
func TestGitFetchRefusesLocalSSHHosts(t *testing.T) {
	f := &source.GitFetcher{CacheDir: t.TempDir()}
	for _, u := range []string{"ssh://git@127.0.0.1:2222/org/apps.git", "git@localhost:org/apps.git", "ssh://git@[fe80::1]/org/apps.git"} {
		_, _, err := f.Fetch(context.Background(), source.GitRef{URL: u, Branch: "main"})
		var ae *source.AddressError
		if !errors.As(err, &ae) {
			t.Errorf("%s: got %v", u, err)
		}
	}
}
