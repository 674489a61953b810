// Command helmfleet writes a synthetic Flux repository of HelmReleases for
// the Helm rendering benchmark (hack/bench/helm.sh), and can serve a
// directory of packaged charts as a static Helm repository on loopback.
//
// Usage:
//
//	go run ./hack/helmfleet -out DIR -repo-url URL [-charts 10] [-releases 50] [-seed 1]
//	go run ./hack/helmfleet -serve DIR [-listen 127.0.0.1:0] [-port-file FILE]
//
// Layout of the generated repository:
//
//	charts/chart-NN/                          a small chart: Deployment, Service, ConfigMap,
//	                                          ServiceAccount, HPA, helpers (version 1.NN.0)
//	clusters/helm/flux-system/                GitRepository + Kustomization flux-system, Namespace
//	clusters/helm/kustomization.yaml
//	clusters/helm/helmrepository.yaml         HelmRepository flux-system/bench-charts (url: -repo-url)
//	clusters/helm/namespaces.yaml             the releases' namespaces
//	clusters/helm/releases/release-NNN.yaml   one HelmRelease each, charts used round-robin
//	baseline/releases.tsv                     name, namespace, chart, version, values file
//	baseline/values/release-NNN.yaml          the HelmRelease's spec.values, for `helm template -f`
//
// The charts are not referenced from the cluster path: the benchmark packages
// them (`helm package`, `helm repo index`) and serves them over HTTP, so that
// rendering goes through the chart cache the way a real repository does. The
// output is a pure function of the flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Upper bounds guard against typos filling the disk.
const (
	maxCharts   = 100
	maxReleases = 10000

	// namespaces the releases are spread over.
	namespaceCount = 5

	clusterPath     = "clusters/helm"
	helmRepoName    = "bench-charts"
	gitRepoURL      = "https://github.com/example-org/fleet-helm"
	readHeaderLimit = 10 * time.Second
)

type config struct {
	out      string
	repoURL  string
	charts   int
	releases int
	seed     uint64

	serve    string
	listen   string
	portFile string
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "helmfleet: %v\n", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.serve != "" {
		return serve(cfg, stderr)
	}
	files, err := generate(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "helmfleet: wrote %d files to %s: %d HelmReleases over %d charts from %s\n",
		files, cfg.out, cfg.releases, cfg.charts, cfg.repoURL)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("helmfleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.out, "out", "", "output directory (must not exist or be empty)")
	fs.StringVar(&cfg.repoURL, "repo-url", "", "URL of the Helm repository serving the packaged charts, e.g. http://127.0.0.1:8080")
	fs.IntVar(&cfg.charts, "charts", 10, fmt.Sprintf("number of charts (1..%d)", maxCharts))
	fs.IntVar(&cfg.releases, "releases", 50, fmt.Sprintf("number of HelmReleases (1..%d)", maxReleases))
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed; identical flags and seed give identical output")
	fs.StringVar(&cfg.serve, "serve", "", "serve this directory over HTTP instead of generating")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:0", "address for -serve (port 0: a free port)")
	fs.StringVar(&cfg.portFile, "port-file", "", "with -serve, write the port actually bound to this file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: helmfleet -out DIR -repo-url URL [-charts N] [-releases M] [-seed S]\n"+
			"       helmfleet -serve DIR [-listen ADDR] [-port-file FILE]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if cfg.serve != "" {
		return cfg, nil
	}
	if cfg.out == "" {
		return cfg, errors.New("-out is required")
	}
	if !strings.HasPrefix(cfg.repoURL, "http://") && !strings.HasPrefix(cfg.repoURL, "https://") {
		return cfg, fmt.Errorf("-repo-url must be an http(s) URL, got %q", cfg.repoURL)
	}
	if cfg.charts < 1 || cfg.charts > maxCharts {
		return cfg, fmt.Errorf("-charts must be between 1 and %d, got %d", maxCharts, cfg.charts)
	}
	if cfg.releases < 1 || cfg.releases > maxReleases {
		return cfg, fmt.Errorf("-releases must be between 1 and %d, got %d", maxReleases, cfg.releases)
	}
	return cfg, nil
}

// serve runs a static file server until the process is stopped. The port
// is chosen by the kernel and written to -port-file once the socket is
// bound, so the caller never races another process for a "free" port.
func serve(cfg config, stderr io.Writer) error {
	if st, err := os.Stat(cfg.serve); err != nil || !st.IsDir() {
		return fmt.Errorf("-serve %s: not a directory", cfg.serve)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.listen, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if cfg.portFile != "" {
		// Written by rename so a reader polling for it never sees it empty.
		tmp := cfg.portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", port)), 0o644); err != nil {
			return fmt.Errorf("writing port file: %w", err)
		}
		if err := os.Rename(tmp, cfg.portFile); err != nil {
			return fmt.Errorf("writing port file: %w", err)
		}
	}
	fmt.Fprintf(stderr, "helmfleet: serving %s on http://%s\n", cfg.serve, ln.Addr())
	srv := &http.Server{Handler: http.FileServer(http.Dir(cfg.serve)), ReadHeaderTimeout: readHeaderLimit}
	return srv.Serve(ln)
}

// generator holds the state of one generation run.
type generator struct {
	cfg   config
	files int
}

func generate(cfg config) (int, error) {
	if err := prepareOut(cfg.out); err != nil {
		return 0, err
	}
	g := &generator{cfg: cfg}
	for c := 0; c < cfg.charts; c++ {
		if err := g.writeChart(c); err != nil {
			return g.files, err
		}
	}
	if err := g.writeCluster(); err != nil {
		return g.files, err
	}
	return g.files, nil
}

// prepareOut creates dir, refusing to write into a non-empty directory so a
// mistyped -out never mixes with (or clobbers) existing files.
func prepareOut(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("-out %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("-out %s: directory is not empty", dir)
	}
	return nil
}

func (g *generator) write(rel, content string) error {
	path := filepath.Join(g.cfg.out, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return err
	}
	g.files++
	return nil
}

func chartName(c int) string     { return fmt.Sprintf("chart-%02d", c) }
func chartVersion(c int) string  { return fmt.Sprintf("1.%d.0", c) }
func releaseName(i int) string   { return fmt.Sprintf("release-%03d", i) }
func namespaceName(n int) string { return fmt.Sprintf("team-%d", n%namespaceCount) }

// namespace spreads each chart's releases over the namespaces.
func (g *generator) namespace(i int) string { return namespaceName(i / g.cfg.charts) }

// rng returns a generator private to (stream, i) so each release's values
// depend only on the seed and its own index.
func (g *generator) rng(stream, i uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.seed, stream<<32^i))
}

// ---------------------------------------------------------------------------
// clusters/helm and baseline/

func (g *generator) writeCluster() error {
	if err := g.write(clusterPath+"/flux-system/gotk-sync.yaml", `apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: `+gitRepoURL+`
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./`+clusterPath+`
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`); err != nil {
		return err
	}
	if err := g.write(clusterPath+"/flux-system/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-sync.yaml
`); err != nil {
		return err
	}
	if err := g.write(clusterPath+"/helmrepository.yaml", fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 1h0m0s
  url: %s
`, helmRepoName, g.cfg.repoURL)); err != nil {
		return err
	}
	var ns strings.Builder
	for i := 0; i < namespaceCount; i++ {
		if i > 0 {
			ns.WriteString("---\n")
		}
		fmt.Fprintf(&ns, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", namespaceName(i))
	}
	if err := g.write(clusterPath+"/namespaces.yaml", ns.String()); err != nil {
		return err
	}

	var kust, tsv strings.Builder
	kust.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - flux-system\n  - helmrepository.yaml\n  - namespaces.yaml\n")
	for i := 0; i < g.cfg.releases; i++ {
		name, c := releaseName(i), i%g.cfg.charts
		v := g.releaseValues(i)
		if err := g.write(clusterPath+"/releases/"+name+".yaml", fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: %s
spec:
  interval: 10m0s
  chart:
    spec:
      chart: %s
      version: %s
      sourceRef:
        kind: HelmRepository
        name: %s
        namespace: flux-system
  values:
%s`, name, g.namespace(i), chartName(c), chartVersion(c), helmRepoName, v.yaml("    "))); err != nil {
			return err
		}
		values := "baseline/values/" + name + ".yaml"
		if err := g.write(values, v.yaml("")); err != nil {
			return err
		}
		fmt.Fprintf(&kust, "  - releases/%s.yaml\n", name)
		fmt.Fprintf(&tsv, "%s\t%s\t%s\t%s\t%s\n", name, g.namespace(i), chartName(c), chartVersion(c), values)
	}
	if err := g.write(clusterPath+"/kustomization.yaml", kust.String()); err != nil {
		return err
	}
	return g.write("baseline/releases.tsv", tsv.String())
}

// releaseValues are the values one HelmRelease sets over its chart's
// defaults: enough variety that no two releases render alike.
type releaseValues struct {
	replicas    int
	tag         string
	port        int
	cpu, memory string
	autoscaling bool
	maxReplicas int
	config      [][2]string
	annotations [][2]string
}

var (
	cpus     = []string{"50m", "100m", "250m", "500m"}
	memories = []string{"64Mi", "128Mi", "256Mi", "512Mi"}
	levels   = []string{"debug", "info", "warn"}
)

func (g *generator) releaseValues(i int) releaseValues {
	r := g.rng(1, uint64(i))
	v := releaseValues{
		replicas:    1 + r.IntN(4),
		tag:         fmt.Sprintf("1.%d.%d", r.IntN(30), r.IntN(10)),
		port:        8000 + r.IntN(1000),
		cpu:         cpus[r.IntN(len(cpus))],
		memory:      memories[r.IntN(len(memories))],
		autoscaling: i%3 == 0,
		config: [][2]string{
			{"LOG_LEVEL", levels[r.IntN(len(levels))]},
			{"RELEASE_INDEX", fmt.Sprintf("%q", fmt.Sprint(i))},
			{"FEATURE_FLAGS", fmt.Sprintf("flag-%d,flag-%d", r.IntN(20), r.IntN(20))},
		},
		annotations: [][2]string{{"example.org/owner", g.namespace(i)}},
	}
	v.maxReplicas = v.replicas + 2 + r.IntN(6)
	return v
}

// yaml renders the values with every line prefixed by indent.
func (v releaseValues) yaml(indent string) string {
	lines := []string{
		fmt.Sprintf("replicaCount: %d", v.replicas),
		"image:",
		fmt.Sprintf("  tag: %q", v.tag),
		"service:",
		fmt.Sprintf("  port: %d", v.port),
		"resources:",
		"  requests:",
		"    cpu: " + v.cpu,
		"    memory: " + v.memory,
		"  limits:",
		"    memory: " + v.memory,
		"autoscaling:",
		fmt.Sprintf("  enabled: %t", v.autoscaling),
		fmt.Sprintf("  minReplicas: %d", v.replicas),
		fmt.Sprintf("  maxReplicas: %d", v.maxReplicas),
		"podAnnotations:",
	}
	for _, a := range v.annotations {
		lines = append(lines, fmt.Sprintf("  %s: %s", a[0], a[1]))
	}
	lines = append(lines, "config:")
	for _, c := range v.config {
		lines = append(lines, fmt.Sprintf("  %s: %s", c[0], c[1]))
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	return b.String()
}
