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
	"syscall"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// AllowLocalSourcesFlag is the opt-in that lets repository content reach
// the runner's own addresses; messages name it so the user knows the way.
const AllowLocalSourcesFlag = "--allow-local-sources (action input allow-local-sources)"

// Address classes an AddressError names.
const (
	ClassLoopback    = "loopback"
	ClassLinkLocal   = "link-local"
	ClassUnspecified = "unspecified"
	ClassMetadata    = "cloud metadata"
)

// metadataAddrs are cloud metadata services outside the link-local range:
// AWS's IPv6 endpoint (Nitro). 169.254.169.254 is link-local already.
var metadataAddrs = []netip.Addr{netip.MustParseAddr("fd00:ec2::254")}

// metadataHosts are names that always mean a metadata service; refused by
// name too, since behind a proxy slipway never resolves them itself.
var metadataHosts = []string{"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}

// AddressPolicy decides which addresses a request caused by repository
// content (a GitRepository, HelmRepository, OCIRepository or the URLs they
// lead to) may connect to. The zero value is the guarded default: never the
// runner itself (loopback), link-local addresses (cloud metadata lives at
// 169.254.169.254), the unspecified address, nor known metadata addresses.
// Private ranges stay allowed: self-hosted runners reach Git servers there.
type AddressPolicy struct {
	// AllowLocal lets requests reach every address (--allow-local-sources).
	AllowLocal bool
}

// AddressError is a connection refused by the AddressPolicy, before any
// byte was sent.
type AddressError struct {
	// Address is what was refused: an IP, IP:port or host name.
	Address string
	// Class is why: ClassLoopback, ClassLinkLocal, ClassUnspecified,
	// ClassMetadata.
	Class string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("refusing to connect to %s (a %s address): repository content may not reach the runner's own or metadata addresses unless %s", e.Address, e.Class, AllowLocalSourcesFlag)
}

// Classify names the refused class of ip, "" when any policy allows it.
func Classify(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return ClassLoopback
	case ip.IsUnspecified():
		return ClassUnspecified
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return ClassLinkLocal
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return ClassMetadata
		}
	}
	return ""
}

// CheckAddr refuses an IP the policy does not allow; address is what the
// error shows (the IP, or IP:port).
func (p AddressPolicy) CheckAddr(ip netip.Addr, address string) error {
	if p.AllowLocal {
		return nil
	}
	if c := Classify(ip); c != "" {
		return &AddressError{Address: address, Class: c}
	}
	return nil
}

// CheckHost refuses a host that is refused whatever it resolves to: a
// literal refused IP, "localhost" and its subdomains, or a metadata
// service's name. Other names are checked once resolved, at dial time.
func (p AddressPolicy) CheckHost(host string) error {
	if p.AllowLocal {
		return nil
	}
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		return p.CheckAddr(ip, host)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return &AddressError{Address: host, Class: ClassLoopback}
	}
	for _, m := range metadataHosts {
		if h == m {
			return &AddressError{Address: host, Class: ClassMetadata}
		}
	}
	return nil
}

// control is a net.Dialer Control: it sees the resolved IP of every
// connection attempt before connect(2), so DNS names and redirects are
// judged by where they actually lead.
func (p AddressPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %s: not an IP address and port", address)
	}
	return p.CheckAddr(ap.Addr(), address)
}

// NetworkOptions say how requests caused by repository content reach the
// network: which addresses (Policy) and through which proxy (Getenv).
type NetworkOptions struct {
	Policy AddressPolicy
	// Getenv reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case);
	// nil reads the process environment, as net/http's default transport
	// does. The proxy is the user's choice, so connecting to it is always
	// allowed, wherever it is.
	Getenv func(string) string
}

// RunNetwork is how every front end (CLI flags, action inputs) sets up
// the network for repository content: guarded unless allowLocal, proxies
// from the environment as net/http reads them.
func RunNetwork(getenv func(string) string, allowLocal bool) NetworkOptions {
	return NetworkOptions{Policy: AddressPolicy{AllowLocal: allowLocal}, Getenv: getenv}
}

// guard is the runtime side of NetworkOptions: the proxy choice and the
// dialer that applies the policy to everything but the chosen proxies.
type guard struct {
	policy  AddressPolicy
	proxy   func(*url.URL) (*url.URL, error)
	dialer  *net.Dialer
	mu      sync.Mutex
	proxies map[string]bool // host:port of proxies chosen so far
}

func newGuard(o NetworkOptions) *guard {
	g := &guard{policy: o.Policy, proxies: map[string]bool{}}
	g.dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: o.Policy.control}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	g.proxy = proxyConfig(getenv).ProxyFunc()
	return g
}

func proxyConfig(getenv func(string) string) *httpproxy.Config {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return &httpproxy.Config{
		HTTPProxy:  first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
	}
}

// Proxy is an http.Transport Proxy. A request that goes through a proxy is
// judged by its host name only (the proxy resolves it); the proxy itself
// is remembered so that dialing it is allowed.
func (g *guard) Proxy(req *http.Request) (*url.URL, error) {
	u, err := g.proxy(req.URL)
	if err != nil || u == nil {
		return u, err
	}
	if err := g.policy.CheckHost(req.URL.Hostname()); err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.proxies[proxyAddr(u)] = true
	g.mu.Unlock()
	return u, nil
}

// proxyAddr is the host:port http.Transport dials for a proxy URL.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// DialContext dials addr, applying the policy unless addr is a proxy the
// user configured.
func (g *guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	isProxy := g.proxies[addr]
	g.mu.Unlock()
	if isProxy {
		return (&net.Dialer{Timeout: g.dialer.Timeout, KeepAlive: g.dialer.KeepAlive}).DialContext(ctx, network, addr)
	}
	host, _, err := net.SplitHostPort(addr)
	if err == nil {
		if err := g.policy.CheckHost(host); err != nil {
			var ae *AddressError
			if errors.As(err, &ae) {
				ae.Address = addr // with the port, as the resolved check says it
			}
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
	}
	return g.dialer.DialContext(ctx, network, addr)
}

// transport returns an HTTP transport guarded by g, otherwise as
// net/http's default.
func (g *guard) transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = g.Proxy
	tr.DialContext = g.DialContext
	return tr
}

// Transport returns an HTTP transport for requests caused by repository
// content: it refuses the addresses the policy refuses, at dial time,
// and uses the configured proxy.
func (o NetworkOptions) Transport() *http.Transport { return newGuard(o).transport() }
