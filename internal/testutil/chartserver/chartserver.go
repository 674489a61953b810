// Package chartserver serves Helm charts the way the remote sources of a
// Flux repository do — an HTTP Helm repository (index.yaml + packaged
// charts) and an OCI registry — on loopback, and is also an HTTP proxy that
// answers for chosen host names. A configuration repository can then name
// ordinary remote URLs (http://charts.example.test,
// oci://registry.example.test/charts/…) and slipway reaches them through
// HTTP_PROXY with its normal HTTP stack, as it would reach a real remote
// repository through a corporate proxy.
//
// It is test and demo infrastructure: the example fleet's tests start it
// in-process (see [Setenv]) and `make demo` runs slipway under
// hack/chartserver. Charts are packaged with the Helm SDK and pushed with
// Helm's registry client, so what is served is byte-for-byte what `helm
// package` and `helm push` would publish.
package chartserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	helmregistry "helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// FixedTime is the file time of every packaged chart, so that the archive
// bytes, and every digest derived from them, are the same on every run.
var FixedTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Chart is one chart directory published at one or more versions.
type Chart struct {
	// Dir is the chart's directory (Chart.yaml, templates/…).
	Dir string
	// Versions to publish; empty means the version in Chart.yaml. Every
	// version is the same content under a different version number.
	Versions []string
}

// Options of a Server.
type Options struct {
	// Charts published both to the HTTP repository and to the registry.
	Charts []Chart
	// HTTPHost is the host name answered, through the proxy, as the HTTP Helm
	// repository (default charts.example.test).
	HTTPHost string
	// OCIHost is the host name answered, through the proxy, as the OCI
	// registry (default registry.example.test).
	OCIHost string
	// OCIRepository is the registry path the charts are pushed under
	// (default "charts": oci://OCIHost/charts/<name>:<version>).
	OCIRepository string
	// Listen is the address to listen on (default 127.0.0.1:0, any free
	// port on loopback).
	Listen string
}

// Server is a running chart server.
type Server struct {
	opts     Options
	listener net.Listener
	srv      *http.Server
	index    []byte
	files    map[string][]byte
	registry http.Handler
	// Requests served, for tests that check what was (not) downloaded.
	IndexHits, ChartHits, RegistryHits atomic.Int64
}

// Example returns the options that serve the example fleet's remote charts
// from root (the repository's testdata/charts; see its README).
func Example(root string) Options {
	return Options{Charts: []Chart{
		{Dir: filepath.Join(root, "status-page"), Versions: []string{"1.0.0", "1.1.0", "1.2.0"}},
		{Dir: filepath.Join(root, "whoami"), Versions: []string{"1.0.0", "1.0.1"}},
	}}
}

// Start packages the charts, starts serving and pushes the charts to the
// registry. Close stops it.
func Start(opts Options) (*Server, error) {
	if opts.HTTPHost == "" {
		opts.HTTPHost = "charts.example.test"
	}
	if opts.OCIHost == "" {
		opts.OCIHost = "registry.example.test"
	}
	if opts.OCIRepository == "" {
		opts.OCIRepository = "charts"
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	var packages []Packaged
	for _, c := range opts.Charts {
		versions := c.Versions
		if len(versions) == 0 {
			versions = []string{""}
		}
		for _, v := range versions {
			p, err := Package(c.Dir, v)
			if err != nil {
				return nil, err
			}
			packages = append(packages, p)
		}
	}
	s := &Server{
		opts:     opts,
		files:    map[string][]byte{},
		registry: ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))),
	}
	idx := repo.NewIndexFile()
	for _, p := range packages {
		if err := idx.MustAdd(p.Chart.Metadata, "charts/"+p.File, "", p.Digest()); err != nil {
			return nil, fmt.Errorf("indexing %s: %w", p.File, err)
		}
		s.files["/charts/"+p.File] = p.Data
	}
	idx.SortEntries()
	// A fixed generation time keeps index.yaml identical across runs.
	idx.Generated = FixedTime
	for _, versions := range idx.Entries {
		for _, v := range versions {
			v.Created = FixedTime
		}
	}
	var err error
	if s.index, err = yaml.Marshal(idx); err != nil {
		return nil, err
	}
	if s.listener, err = net.Listen("tcp", opts.Listen); err != nil {
		return nil, fmt.Errorf("chart server: %w", err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(s.listener) }()
	for _, p := range packages {
		if err := s.push(p); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// ProxyURL is the value for HTTP_PROXY.
func (s *Server) ProxyURL() string { return "http://" + s.Addr() }

// HTTPRepositoryURL is the URL a HelmRepository names for the HTTP repository.
func (s *Server) HTTPRepositoryURL() string { return "http://" + s.opts.HTTPHost }

// OCIRepositoryURL is the URL a HelmRepository of type oci names; an
// OCIRepository names it plus "/<chart>".
func (s *Server) OCIRepositoryURL() string {
	return "oci://" + s.opts.OCIHost + "/" + s.opts.OCIRepository
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// ServeHTTP routes by host: a proxied request (absolute URL) for the HTTP
// host goes to the Helm repository, for the OCI host to the registry. A
// direct request to the listening address is served too (registry API
// under /v2/, the Helm repository otherwise), so the server also works
// without a proxy, at its loopback address.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch {
	case r.Method == http.MethodConnect:
		// HTTPS through the proxy would need a certificate for the fake host
		// names; the example's sources use plain HTTP (spec.insecure for OCI).
		http.Error(w, "chart server: HTTPS (CONNECT) is not served; use http:// sources", http.StatusMethodNotAllowed)
	case host == s.opts.OCIHost || (r.URL.Host == "" && strings.HasPrefix(r.URL.Path, "/v2")):
		s.RegistryHits.Add(1)
		s.registry.ServeHTTP(w, r)
	case host == s.opts.HTTPHost || r.URL.Host == "":
		s.serveRepository(w, r)
	default:
		// Never forward anywhere else: nothing leaves loopback.
		http.Error(w, fmt.Sprintf("chart server: host %q is not served (only %s and %s)", host, s.opts.HTTPHost, s.opts.OCIHost), http.StatusBadGateway)
	}
}

func (s *Server) serveRepository(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/index.yaml":
		s.IndexHits.Add(1)
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = w.Write(s.index)
	case s.files[p] != nil:
		s.ChartHits.Add(1)
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(s.files[p])
	default:
		http.NotFound(w, r)
	}
}

// push publishes p as <listen address>/<OCIRepository>/<name>:<version>
// with Helm's registry client. The registry ignores the host, so the chart
// is then pulled as OCIHost/… through the proxy.
func (s *Server) push(p Packaged) error {
	dir, err := os.MkdirTemp("", "chartserver-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(),
		helmregistry.ClientOptCredentialsFile(filepath.Join(dir, "config.json")),
		// Not http.DefaultTransport: its first request would make Go read
		// (and cache for the process) the proxy variables before Setenv
		// has set them.
		helmregistry.ClientOptHTTPClient(&http.Client{Transport: &http.Transport{}}))
	if err != nil {
		return err
	}
	// OCI tags cannot hold "+"; Helm writes it as "_".
	ref := s.Addr() + "/" + s.opts.OCIRepository + "/" + p.Chart.Name() + ":" + strings.ReplaceAll(p.Chart.Metadata.Version, "+", "_")
	if _, err := c.Push(p.Data, ref, helmregistry.PushOptCreationTime(FixedTime.Format(time.RFC3339))); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// Packaged is a chart packaged with the Helm SDK.
type Packaged struct {
	Chart *chart.Chart
	// File is the archive's name, <name>-<version>.tgz.
	File string
	Data []byte
}

// Digest is the archive's SHA-256, as index.yaml records it.
func (p Packaged) Digest() string {
	sum := sha256.Sum256(p.Data)
	return hex.EncodeToString(sum[:])
}

// Package packages the chart in dir, as version when not empty, with
// FixedTime as every file's time.
func Package(dir, version string) (Packaged, error) {
	c, err := loader.LoadDir(dir)
	if err != nil {
		return Packaged{}, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	if version != "" {
		c.Metadata.Version = version
	}
	c.ModTime, c.SchemaModTime = FixedTime, FixedTime
	for _, files := range [][]*common.File{c.Raw, c.Templates, c.Files} {
		for _, f := range files {
			f.ModTime = FixedTime
		}
	}
	tmp, err := os.MkdirTemp("", "chartserver-package-")
	if err != nil {
		return Packaged{}, err
	}
	defer os.RemoveAll(tmp)
	p, err := chartutil.Save(c, tmp)
	if err != nil {
		return Packaged{}, fmt.Errorf("packaging chart %s: %w", dir, err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return Packaged{}, err
	}
	return Packaged{Chart: c, File: filepath.Base(p), Data: data}, nil
}

// Main is the TestMain of a package whose tests build the example fleet:
// it serves the example's charts (testdata/charts of the module the test
// runs in) with [Setenv], runs the tests and returns their exit code.
func Main(m interface{ Run() int }) int {
	dir, err := os.Getwd()
	for err == nil {
		if _, serr := os.Stat(filepath.Join(dir, "go.mod")); serr == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			err = errors.New("no go.mod above " + dir)
		}
		dir = filepath.Dir(dir)
	}
	var stop func()
	if err == nil {
		stop, err = Setenv(filepath.Join(dir, "testdata", "charts"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the example chart server:", err)
		return 1
	}
	defer stop()
	return m.Run()
}

// Setenv starts the example fleet's chart server (charts under root) and
// points HTTP_PROXY at it for this process and the processes it starts.
// Loopback addresses are never proxied (Go's and curl's rule), so local
// clusters and test servers are reached directly. It must run before the
// first HTTP request: Go reads the proxy variables once. The returned
// function stops the server.
func Setenv(root string) (stop func(), err error) {
	s, err := Start(Example(root))
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"HTTP_PROXY", "http_proxy"} {
		if err := os.Setenv(k, s.ProxyURL()); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return func() { _ = s.Close() }, nil
}
