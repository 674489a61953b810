package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testcluster"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// The bounds for any input: slipway answers within a minute and a
// gigabyte, whatever the repository holds.
const (
	hostileTimeBound   = 60 * time.Second
	hostileMemoryBound = 1 << 30
	// hostileOutputBound: one bad input may not flood the log; 65,535
	// characters is also the most a GitHub comment or check run holds.
	hostileOutputBound = 64 << 10
)

// hostileCanary is a secret value planted in every generated repository (a
// Secret, a GitRepository URL's password, the environment): it must never
// reach slipway's output.
const hostileCanary = "canary-7f3e9a1d"

// hostileCase is one hostile repository and what slipway must say about it.
type hostileCase struct {
	name string
	// broken names a testdata/broken case, run with its args.txt; otherwise
	// the case is the base repository with files replaced.
	broken   string
	files    map[string]string
	symlinks map[string]string // link -> target; "$OUT" is a folder outside the repository
	args     []string
	// code is the expected exit code.
	code int
	// at is where an error finding must point ("file" or "file:line"); ""
	// when the failure is the command's own (usage, a missing path).
	at string
	// want must appear in the output.
	want string
	// marker is a file, relative to the case's folder, that must not exist
	// afterwards: what an executed plugin or a tar slip would create.
	marker string
	// cluster: also run apply --dry-run and apply against a cluster, and
	// check nothing was applied.
	cluster bool
	// knownGap names a hole not fixed yet: the assertion it breaks is
	// logged instead of failing.
	knownGap string
}

// TestHostileInput runs slipway, as a process, on repositories built to
// hurt it, and checks each fails the same way: the documented exit code, a
// finding at the file (and line) at fault, within the time and memory
// bounds, no panic, no secret value in the output.
func TestHostileInput(t *testing.T) {
	cases := append(brokenCases(t), generatedHostileCases(t)...)
	if len(cases) < 50 {
		t.Fatalf("%d cases; the issue asks for at least 50", len(cases))
	}
	var clusterCases []hostileCase
	for _, tc := range cases {
		if tc.cluster {
			clusterCases = append(clusterCases, tc)
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			repo, args := tc.prepare(t, dir)
			r := runBounded(t, dir, append([]string{"validate", "--repo", repo, "--cache-dir", filepath.Join(dir, "cache")}, args...))
			tc.check(t, dir, r)
		})
	}
	t.Run("cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("needs a local cluster")
		}
		c := testcluster.ForTest(t, testcluster.Options{})
		for _, tc := range clusterCases {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				repo, args := tc.prepare(t, dir)
				for _, verb := range [][]string{{"apply", "--dry-run"}, {"apply"}} {
					r := runBounded(t, dir, append(append(verb, "--repo", repo, "--cache-dir", filepath.Join(dir, "cache"), "--kubeconfig", c.Kubeconfig), args...))
					if r.code != exitFailed {
						t.Errorf("%v: exit %d, want %d\n%s", verb, r.code, exitFailed, r.out)
					}
					tc.checkSafe(t, dir, r)
					assertNothingApplied(t, c)
				}
			})
		}
		// Once the valid repository is deployed, a hostile commit must
		// neither change nor prune what runs: apps keeps its objects and
		// its inventory.
		dir := t.TempDir()
		repo, _ := hostileCase{}.prepare(t, dir)
		if r := runBounded(t, dir, []string{"apply", "--repo", repo, "--cache-dir", filepath.Join(dir, "cache"), "--kubeconfig", c.Kubeconfig}); r.code != exitOK {
			t.Fatalf("applying the valid repository: exit %d\n%s", r.code, r.out)
		}
		before := appsInventory(t, c)
		for _, tc := range clusterCases {
			t.Run("over-deployed/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				repo, args := tc.prepare(t, dir)
				r := runBounded(t, dir, append([]string{"apply", "--repo", repo, "--cache-dir", filepath.Join(dir, "cache"), "--kubeconfig", c.Kubeconfig}, args...))
				if r.code != exitFailed {
					t.Errorf("exit %d, want %d\n%s", r.code, exitFailed, r.out)
				}
				tc.checkSafe(t, dir, r)
				if after := appsInventory(t, c); after != before {
					t.Errorf("the inventory of apps changed:\n%s\nwas:\n%s", after, before)
				}
				for _, obj := range []string{"namespace/hostile", "-n hostile configmap/settings", "-n hostile secret/canary"} {
					if _, err := c.Kubectl(t.Context(), append([]string{"get"}, strings.Fields(obj)...)...); err != nil {
						t.Errorf("%s was pruned or changed: %v", obj, err)
					}
				}
			})
		}
	})
}

// appsInventory is the inventory ConfigMap of the apps Kustomization.
func appsInventory(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	out, err := c.Kubectl(t.Context(), "-n", "slipway-system", "get", "configmap", "inventory-flux-system-apps", "-o", "jsonpath={.data}")
	if err != nil {
		t.Fatalf("the inventory of apps: %v", err)
	}
	return out
}

// hostileRun is what one slipway process did.
type hostileRun struct {
	code   int
	out    string // stdout and stderr, clipped
	outLen int    // bytes before clipping
	took   time.Duration
	maxRSS int64 // bytes
}

// runBounded runs slipway's main in a child process (the test binary, see
// runMainEnv) so its peak memory can be read from the kernel, and kills it
// at twice the time bound so a hang fails the test instead of stalling it.
func runBounded(t *testing.T, dir string, args []string) hostileRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*hostileTimeBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	// The canary in the environment is what a symlink to
	// /proc/self/environ would leak; HOME keeps kustomize's plugin folder
	// and caches inside the case.
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "SLIPWAY_HOSTILE_CANARY="+hostileCanary, "HOME="+filepath.Join(dir, "home"), "XDG_CONFIG_HOME="+filepath.Join(dir, "home", ".config"), peakRSSFileEnv+"="+filepath.Join(dir, "peak-rss"))
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := hostileRun{code: -1, out: clip(out.String()), outLen: out.Len(), took: time.Since(start)}
	if cmd.ProcessState == nil {
		t.Fatalf("slipway %v did not start: %v", args, err)
	}
	r.code = cmd.ProcessState.ExitCode()
	r.maxRSS = peakRSS(cmd.ProcessState, filepath.Join(dir, "peak-rss"))
	if r.maxRSS == 0 {
		t.Errorf("slipway %v did not record its peak memory", args)
	}
	t.Logf("exit %d in %s, peak RSS %d MiB: %s", r.code, r.took.Round(time.Millisecond), r.maxRSS>>20, firstError(r.out))
	return r
}

// clip keeps failure messages readable when slipway quotes a huge input.
// The canary check runs on the clipped text: no finding quotes the canary
// after 64 KiB of other text.
func clip(s string) string {
	const max = 64 << 10
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("… (%d bytes more)", len(s)-max)
}

// peakRSSFileEnv names the file where a child running main records its
// peak resident memory.
const peakRSSFileEnv = "SLIPWAY_TEST_PEAK_RSS_FILE"

// recordPeakRSS writes the process's peak resident memory (VmHWM, in
// kilobytes) to path. The child's rusage cannot say it: Linux counts the
// memory of the test process the child was started from (Go starts
// children with vfork) in the child's Maxrss, so every child would appear
// to use what the test holds.
func recordPeakRSS(path string) {
	if path == "" {
		return
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			_ = os.WriteFile(path, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o644)
		}
	}
}

// peakRSS is the child's peak resident memory in bytes: what it recorded,
// or, when it was killed before it could, the kernel's (over-)estimate.
func peakRSS(ps *os.ProcessState, recorded string) int64 {
	if data, err := os.ReadFile(recorded); err == nil {
		if kb, err := strconv.ParseInt(string(data), 10, 64); err == nil {
			return kb << 10
		}
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // kilobytes on Linux
	}
	return 0
}

func (tc hostileCase) check(t *testing.T, dir string, r hostileRun) {
	t.Helper()
	if r.code != tc.code {
		tc.fail(t, "exit %d, want %d\n%s", r.code, tc.code, r.out)
	}
	if tc.at != "" && !hasFindingAt(r.out, tc.at) {
		tc.fail(t, "no error finding at %s:\n%s", tc.at, r.out)
	}
	if tc.want != "" && !strings.Contains(r.out, tc.want) {
		tc.fail(t, "the output lacks %q:\n%s", tc.want, r.out)
	}
	tc.checkSafe(t, dir, r)
}

// checkSafe holds for every command on every input.
func (tc hostileCase) checkSafe(t *testing.T, dir string, r hostileRun) {
	t.Helper()
	if r.took > hostileTimeBound {
		tc.fail(t, "took %s, the bound is %s", r.took, hostileTimeBound)
	}
	if r.maxRSS > hostileMemoryBound {
		tc.fail(t, "peak RSS %d MiB, the bound is %d MiB", r.maxRSS>>20, hostileMemoryBound>>20)
	}
	if r.outLen > hostileOutputBound {
		tc.fail(t, "%d bytes of output, the bound is %d", r.outLen, hostileOutputBound)
	}
	for _, s := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(r.out, s) {
			tc.fail(t, "the output holds %q:\n%s", s, r.out)
		}
	}
	if strings.Contains(r.out, hostileCanary) {
		tc.fail(t, "the secret canary is in the output:\n%s", r.out)
	}
	if tc.marker != "" {
		if _, err := os.Lstat(filepath.Join(dir, tc.marker)); err == nil {
			tc.fail(t, "%s exists: slipway ran or wrote something the repository asked for", tc.marker)
		}
	}
}

// fail fails the test unless the case documents a known gap.
func (tc hostileCase) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	if tc.knownGap != "" {
		t.Logf("known gap (%s): %s", tc.knownGap, fmt.Sprintf(format, args...))
		return
	}
	t.Errorf(format, args...)
}

// firstError is the first error line of out, for the log of a passing case.
func firstError(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "✗ ") && !strings.HasPrefix(line, "✗ clusters/dev: ") {
			return line[:min(len(line), 300)]
		}
	}
	return ""
}

// hasFindingAt reports whether out holds an error finding at "file" or
// "file:line" (any line of file when at names no line).
func hasFindingAt(out, at string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "✗ "+at)
		if ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, ":") && !strings.Contains(at, ":")) {
			return true
		}
	}
	return false
}

// assertNothingApplied: nothing of the failing Kustomization (apps) was
// applied and it has no inventory. Independent Kustomizations are applied,
// as Flux would (docs/deploy.md, "Validation first"): flux-system's
// inventory may exist.
func assertNothingApplied(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	out, err := c.Kubectl(t.Context(), "get", "configmaps,secrets,namespaces", "-A", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(out) {
		switch name {
		case "configmap/inventory-flux-system-apps", "namespace/hostile", "configmap/settings", "configmap/c0", "secret/canary", "secret/cluster-secrets":
			t.Errorf("%s exists: a Kustomization that failed was applied (in part)", name)
		}
	}
}

// prepare writes the case's repository under dir and returns it with the
// extra arguments.
func (tc hostileCase) prepare(t *testing.T, dir string) (string, []string) {
	t.Helper()
	if tc.broken != "" {
		return filepath.Join(tc.broken, "repo"), tc.args
	}
	repo := filepath.Join(dir, "repo")
	files := hostileBase()
	for p, c := range tc.files {
		files[p] = c
	}
	for p, c := range files {
		if c == "" {
			continue // removed by the case
		}
		writeFile(t, filepath.Join(repo, p), strings.ReplaceAll(c, "$DIR", dir))
	}
	outside := filepath.Join(dir, "outside")
	writeFile(t, filepath.Join(outside, "secret.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\ndata:\n  token: "+hostileCanary+"\n")
	for link, target := range tc.symlinks {
		p := filepath.Join(repo, link)
		_ = os.RemoveAll(p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(strings.ReplaceAll(target, "$OUT", outside), p); err != nil {
			t.Fatal(err)
		}
	}
	args := make([]string, len(tc.args))
	for i, a := range tc.args {
		args[i] = strings.ReplaceAll(a, "$DIR", dir)
	}
	return repo, args
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o644)
	if strings.HasPrefix(content, "#!") {
		mode = 0o755 // scripts a plugin or function would run
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// brokenCases are testdata/broken's repositories: the exit code and the
// first error of each golden findings.txt.
func brokenCases(t *testing.T) []hostileCase {
	root := testutil.RepoRoot(t)
	dirs, err := filepath.Glob(filepath.Join(root, "testdata", "broken", "*", "findings.txt"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under testdata/broken: %v", err)
	}
	var cases []hostileCase
	for _, f := range dirs {
		dir := filepath.Dir(f)
		tc := hostileCase{name: "broken/" + filepath.Base(dir), broken: dir, code: exitFailed}
		if data, err := os.ReadFile(filepath.Join(dir, "args.txt")); err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
				if k == "age-key-file" {
					v = filepath.Join(root, v)
				}
				flag := map[string]string{"path": "--path", "kubernetes-version": "--kubernetes-version", "age-key-file": "--sops-age-key-file", "max-file-size": "--max-file-size"}[k]
				tc.args = append(tc.args, flag, v)
			}
		}
		golden, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(golden), "\n") {
			if msg, ok := strings.CutPrefix(line, "error: "); ok {
				tc.want = msg
				break
			}
			if rest, ok := strings.CutPrefix(line, "✗ "); ok {
				tc.at, _, _ = strings.Cut(rest, " ")
				break
			}
		}
		if tc.at == "" && tc.want == "" {
			t.Fatalf("%s: no error in the golden findings", f)
		}
		cases = append(cases, tc)
	}
	return cases
}

// hostileBase is a valid repository: one Kustomization (apps) of a
// Namespace, a ConfigMap and a Secret holding the canary.
func hostileBase() map[string]string {
	return map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://github.com/example-org/fleet
---
` + fluxKustomization("flux-system", "./clusters/dev", ""),
		"clusters/dev/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
		"clusters/dev/apps.yaml":                      fluxKustomization("apps", "./apps/dev", ""),
		"apps/dev/kustomization.yaml":                 "namespace: hostile\nresources:\n  - namespace.yaml\n  - secret.yaml\n  - configmap.yaml\n",
		"apps/dev/namespace.yaml":                     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hostile\n",
		"apps/dev/secret.yaml":                        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: canary\nstringData:\n  token: " + hostileCanary + "\n",
		"apps/dev/configmap.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: calm\n",
	}
}

// fluxKustomization is a Flux Kustomization of the flux-system source;
// spec is appended to its spec.
func fluxKustomization(name, path, spec string) string {
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: %s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
%s`, name, path, spec)
}

// withKustomize is the apps kustomization.yaml with one more line.
func withKustomize(extra string) map[string]string {
	return map[string]string{"apps/dev/kustomization.yaml": "namespace: hostile\nresources:\n  - namespace.yaml\n  - secret.yaml\n  - configmap.yaml\n" + extra}
}

func configMap(body string) map[string]string {
	return map[string]string{"apps/dev/configmap.yaml": body}
}

// gitSource is a second GitRepository and a Kustomization built from it.
func gitSource(url string) map[string]string {
	return map[string]string{"clusters/dev/other.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: other
  namespace: flux-system
spec:
  interval: 1m
  ref:
    branch: main
  url: ` + url + `
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: other
  namespace: flux-system
spec:
  interval: 10m
  path: ./deploy
  prune: true
  sourceRef:
    kind: GitRepository
    name: other
`}
}

// execScript, if anything ran it, creates the case's marker file "ran"
// ($DIR is the case's folder).
const execScript = "#!/bin/sh\ntouch $DIR/ran\necho 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ran}'\n"

func generatedHostileCases(t *testing.T) []hostileCase {
	root := testutil.RepoRoot(t)
	sops, err := os.ReadFile(filepath.Join(root, "testdata", "fleet", "clusters", "staging", "cluster-secrets.sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(root, "testdata", "keys", "age.agekey")
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata: {k: v}\n", i)
		}
		return b.String()
	}
	big := strings.Repeat("x", 512<<10)
	refs := strings.Repeat("${BIG}", 2000)
	cfg := func(data string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n" + data
	}
	remote := "https://github.com/example-org/base//deploy?ref=v1"
	cases := []hostileCase{
		{name: "baseline", code: exitOK},
		{name: "usage/output-format", args: []string{"-o", "xml"}, code: exitUsage, want: "-o xml"},
		{name: "usage/kubernetes-version", args: []string{"--kubernetes-version", "banana"}, code: exitUsage, want: "banana"},

		// YAML that costs more to read than it weighs.
		{name: "yaml/billion-laughs", code: exitFailed, at: "apps/dev/configmap.yaml", files: configMap(billionLaughs())},
		{name: "yaml/deep-flow-nesting", code: exitFailed, at: "apps/dev/configmap.yaml", files: configMap(cfg("  k: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"))},
		{name: "yaml/deep-block-nesting", code: exitFailed, at: "apps/dev/configmap.yaml:6", want: "more bytes)", files: configMap(cfg(deepBlock(3000)))},
		{name: "yaml/duplicate-metadata-name", code: exitFailed, at: "apps/dev/configmap.yaml:5", want: "duplicate key", files: configMap("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  name: other\n")},
		// Two unknown fields: both are named, each at its own line.
		{name: "yaml/merge-key-unknown-field", code: exitFailed, at: "apps/dev/configmap.yaml:7", want: ".extra: field not declared", files: configMap("apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: settings\nbase: &b\n  bogus: \"1\"\nextra:\n  <<: *b\n")},
		{name: "yaml/merge-key-unknown-fields", code: exitFailed, at: "apps/dev/configmap.yaml:5", want: ".base: field not declared", files: configMap("apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: settings\nbase: &b\n  bogus: \"1\"\nextra:\n  <<: *b\n")},
		{name: "yaml/binary-tag", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "cannot decode !!str `notanumber` as a !!int", files: configMap(cfg("  k: !!binary aGVsbG8=\n  n: !!int notanumber\n"))},
		{name: "yaml/custom-tag", code: exitFailed, at: "apps/dev/configmap.yaml:6", want: "unknown YAML tag !vault", files: configMap(cfg("  k: !vault secret/data/db\n  j: !!python/object:os.system ls\n"))},
		{name: "yaml/invalid-utf8", code: exitFailed, at: "apps/dev/configmap.yaml", files: configMap(cfg("  k: \"\xff\xfe\xfd\"\n"))},
		{name: "yaml/nul-bytes", code: exitFailed, at: "apps/dev/configmap.yaml", files: configMap(cfg("  k: a\x00b\n"))},
		{name: "yaml/binary-file", code: exitFailed, at: "apps/dev/configmap.yaml", files: configMap("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xd8\xff\xe0" + strings.Repeat("\x00\x9c\xfe", 1000))},
		{name: "yaml/crlf-line-numbers", code: exitFailed, at: "apps/dev/configmap.yaml:7", want: "first defined at line 6", files: configMap(strings.ReplaceAll(cfg("  a: 1\n  a: 2\n"), "\n", "\r\n"))},
		{name: "yaml/bom-line-numbers", code: exitFailed, at: "apps/dev/configmap.yaml:7", want: "first defined at line 6", files: configMap("\ufeff" + cfg("  a: 1\n  a: 2\n"))},
		// A 2 MiB line is valid YAML; the object it makes is one most clusters refuse to store.
		{name: "yaml/very-long-line", code: exitOK, want: "! apps/dev/configmap.yaml:1 [apiserver] ConfigMap/hostile/settings: 2 MiB as JSON, over etcd's default limit", files: configMap(cfg("  k: " + strings.Repeat("y", 2<<20) + "\n"))},

		// Sizes and counts.
		{name: "size/file-over-default-limit", code: exitFailed, at: "apps/dev/configmap.yaml", want: "file too large", files: configMap(cfg("  k: |\n" + strings.Repeat("    "+strings.Repeat("z", 1020)+"\n", 9<<10)))},
		{name: "size/object-over-3MiB", code: exitFailed, at: "apps/dev/configmap.yaml:1", want: "3 MiB", files: configMap(cfg("  a: " + strings.Repeat("w", 1<<20) + "\n  b: " + strings.Repeat("w", 1<<20) + "\n  c: " + strings.Repeat("w", 1<<20) + "\n  d: " + strings.Repeat("w", 1<<20) + "\n"))},
		{name: "size/too-many-documents", code: exitFailed, at: "apps/dev/configmap.yaml:29990", want: "more than 5000 YAML documents", cluster: true, files: map[string]string{"apps/dev/configmap.yaml": many(5001)}},
		{name: "size/substitution-amplification", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "apps/dev/configmap.yaml:1: substituting variables in ConfigMap/hostile/settings: variable substitution would make the object larger than 3 MiB", cluster: true, files: map[string]string{
			"clusters/dev/apps.yaml":  fluxKustomization("apps", "./apps/dev", "  postBuild:\n    substitute:\n      BIG: "+big+"\n"),
			"apps/dev/configmap.yaml": cfg("  k: " + refs + "\n"),
		}},

		// Names that are paths.
		{name: "name/kustomization-with-slash", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: `metadata.name: Invalid value: "team/apps"`, files: map[string]string{"clusters/dev/apps.yaml": fluxKustomization("team/apps", "./apps/dev", "")}},
		{name: "name/kustomization-dotdot", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: `metadata.name: Invalid value: ".."`, files: map[string]string{"clusters/dev/apps.yaml": fluxKustomization("..", "./apps/dev", "")}},
		{name: "name/unicode", code: exitFailed, at: "apps/dev/configmap.yaml:1", want: "metadata.name", files: configMap("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: café-ｓｅｔｔｉｎｇｓ\n")},
		{name: "name/rtl-override-label", code: exitFailed, at: "apps/dev/configmap.yaml:1", want: "metadata.labels", files: configMap("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels:\n    app: \"evil\u202egnp\"\n")},

		// Paths that leave the repository.
		{name: "path/spec-path-absolute", code: exitFailed, at: "clusters/dev/apps.yaml", files: map[string]string{"clusters/dev/apps.yaml": fluxKustomization("apps", "/etc", "")}},
		{name: "path/resource-dotdot", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "outside the repository", files: withKustomize("  - ../../../outside/secret.yaml\n")},
		{name: "path/resource-absolute", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "outside the repository", files: withKustomize("  - /etc/passwd\n")},
		{name: "path/patch-dotdot", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "outside the repository", files: withKustomize("patches:\n  - path: ../../../outside/secret.yaml\n")},
		{name: "path/component-dotdot", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "outside the repository", files: withKustomize("components:\n  - ../../../outside\n")},
		{name: "path/configmap-generator-dotdot", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "outside the repository", files: withKustomize("configMapGenerator:\n  - name: leak\n    files:\n      - ../../../outside/secret.yaml\n")},
		{name: "path/secret-generator-absolute", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "outside the repository", files: withKustomize("secretGenerator:\n  - name: leak\n    envs:\n      - /proc/self/environ\n")},
		{name: "path/helm-chart-escapes", code: exitFailed, at: "apps/dev/release.yaml", files: map[string]string{
			"apps/dev/kustomization.yaml": "namespace: hostile\nresources:\n  - namespace.yaml\n  - release.yaml\n",
			"apps/dev/release.yaml":       helmRelease("./../../../outside", ""),
		}},

		// Symlinks out of the repository.
		{name: "symlink/file-outside", code: exitFailed, at: "apps/dev/configmap.yaml", symlinks: map[string]string{"apps/dev/configmap.yaml": "$OUT/secret.yaml"}},
		{name: "symlink/dir-outside", code: exitFailed, at: "apps/dev/extra", want: "outside the repository", symlinks: map[string]string{"apps/dev/extra": "$OUT"}, files: withKustomize("  - extra\n")},
		{name: "symlink/relative-escape", code: exitFailed, at: "apps/dev/configmap.yaml", symlinks: map[string]string{"apps/dev/configmap.yaml": "../../../outside/secret.yaml"}},
		{name: "symlink/etc-passwd", code: exitFailed, at: "apps/dev/configmap.yaml", symlinks: map[string]string{"apps/dev/configmap.yaml": "/etc/passwd"}},
		{name: "symlink/proc-environ", code: exitFailed, at: "apps/dev/configmap.yaml", cluster: true, symlinks: map[string]string{"apps/dev/configmap.yaml": "/proc/self/environ"}},
		{name: "symlink/dev-zero", code: exitFailed, at: "apps/dev/configmap.yaml", symlinks: map[string]string{"apps/dev/configmap.yaml": "/dev/zero"}},
		{name: "symlink/dev-urandom", code: exitFailed, at: "apps/dev/configmap.yaml", symlinks: map[string]string{"apps/dev/configmap.yaml": "/dev/urandom"}},
		{name: "symlink/loop", code: exitFailed, at: "apps/dev/configmap.yaml", symlinks: map[string]string{"apps/dev/configmap.yaml": "loop.yaml", "apps/dev/loop.yaml": "configmap.yaml"}},
		{name: "symlink/cluster-path-outside", code: exitFailed, want: `path "clusters": contains no cluster directories`, symlinks: map[string]string{"clusters/dev": "$OUT"}, files: map[string]string{"clusters/dev/apps.yaml": "", "clusters/dev/flux-system/gotk-sync.yaml": "", "clusters/dev/flux-system/kustomization.yaml": ""}},

		// Sources slipway must not fetch or read.
		{name: "git/file-url", code: exitFailed, at: "clusters/dev/other.yaml", want: "file://", files: gitSource("file:///etc")},
		{name: "git/local-path", code: exitFailed, at: "clusters/dev/other.yaml", files: gitSource("/srv/git/fleet")},
		{name: "git/ssh-url", code: exitFailed, at: "clusters/dev/other.yaml", files: gitSource("ssh://git@127.0.0.1:1/fleet.git")},
		{name: "git/url-credentials", code: exitFailed, at: "clusters/dev/other.yaml", want: "**redacted**", files: gitSource("https://robot:" + hostileCanary + "@127.0.0.1:1/fleet.git")},

		// Code execution: kustomize plugins, functions and Helm, kubeconfig exec.
		{name: "exec/kustomize-helmcharts", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "must specify --enable-helm", marker: "ran", files: withKustomize("helmCharts:\n  - name: web\n    releaseName: web\nhelmGlobals:\n  chartHome: ../../charts\n")},
		{name: "exec/kustomize-exec-function", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "external plugins disabled", marker: "ran", files: map[string]string{
			"apps/dev/kustomization.yaml": "resources:\n  - configmap.yaml\ntransformers:\n  - fn.yaml\n",
			"apps/dev/fn.yaml":            "apiVersion: example.com/v1\nkind: Run\nmetadata:\n  name: run\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./run.sh\n",
			"apps/dev/run.sh":             execScript,
		}},
		{name: "exec/kustomize-container-function", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "external plugins disabled", files: map[string]string{
			"apps/dev/kustomization.yaml": "resources:\n  - configmap.yaml\ngenerators:\n  - fn.yaml\n",
			"apps/dev/fn.yaml":            "apiVersion: example.com/v1\nkind: Run\nmetadata:\n  name: run\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: example.com/evil:1\n",
		}},
		{name: "exec/kustomize-legacy-plugin", code: exitFailed, at: "clusters/dev/apps.yaml:1", want: "external plugins disabled", marker: "ran", files: map[string]string{
			"apps/dev/kustomization.yaml": "resources:\n  - configmap.yaml\ngenerators:\n  - gen.yaml\n",
			"apps/dev/gen.yaml":           "apiVersion: someteam.example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n",
			"../home/.config/kustomize/plugin/someteam.example.com/v1/evil/Evil": execScript,
		}},
		{name: "exec/kubeconfig-in-repo", code: exitFailed, at: "apps/dev/kubeconfig.yaml", marker: "ran", files: map[string]string{
			"apps/dev/kustomization.yaml": "namespace: hostile\nresources:\n  - namespace.yaml\n  - kubeconfig.yaml\n",
			"apps/dev/kubeconfig.yaml":    "apiVersion: v1\nkind: Config\nclusters:\n  - name: c\n    cluster: {server: https://127.0.0.1:1}\ncontexts:\n  - name: c\n    context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n  - name: u\n    user:\n      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: sh\n        args: [-c, 'touch $DIR/ran']\n",
		}},
		{name: "exec/spec-kubeconfig", code: exitFailed, at: "clusters/dev/apps.yaml", want: "spec.kubeConfig", cluster: true, files: map[string]string{
			"clusters/dev/apps.yaml": fluxKustomization("apps", "./apps/dev", "  kubeConfig:\n    secretRef:\n      name: remote-kubeconfig\n"),
		}},

		// Secrets.
		{name: "secret/invalid-base64", code: exitFailed, at: "apps/dev/secret.yaml:1", want: "base64", cluster: true, files: map[string]string{"apps/dev/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: canary\ndata:\n  token: " + hostileCanary + "!!\n"}},
		{name: "secret/sops-bad-mac", code: exitFailed, at: "apps/dev/secret.yaml:1", want: "MAC", cluster: true, args: []string{"--sops-age-key-file", key}, files: map[string]string{
			"clusters/dev/apps.yaml": fluxKustomization("apps", "./apps/dev", "  decryption:\n    provider: sops\n"),
			"apps/dev/secret.yaml":   strings.Replace(string(sops), "namespace: flux-system", "namespace: hostile", 1),
		}},
		{name: "secret/chart-fail-quotes-value", code: exitFailed, at: "apps/dev/release.yaml", want: "**", files: map[string]string{
			"apps/dev/kustomization.yaml":        "namespace: hostile\nresources:\n  - namespace.yaml\n  - secret.yaml\n  - release.yaml\n",
			"apps/dev/release.yaml":              helmRelease("./charts/failing", "  valuesFrom:\n    - kind: Secret\n      name: canary\n      valuesKey: token\n      targetPath: password\n"),
			"charts/failing/Chart.yaml":          "apiVersion: v2\nname: failing\nversion: 0.1.0\n",
			"charts/failing/templates/fail.yaml": "{{ fail (printf \"the password %s is wrong\" .Values.password) }}\n",
		}},
		{name: "helm/chart-tar-slip", code: exitFailed, at: "apps/dev/release.yaml", marker: "escaped.yaml", files: map[string]string{
			"apps/dev/kustomization.yaml": "namespace: hostile\nresources:\n  - namespace.yaml\n  - release.yaml\n",
			"apps/dev/release.yaml":       helmRelease("./charts/slip-0.1.0.tgz", ""),
			"charts/slip-0.1.0.tgz":       tarSlipChart(t),
		}},
	}
	for _, field := range []struct{ name, yaml string }{
		{"resources", "  - " + remote + "\n"},
		{"bases", "bases:\n  - " + remote + "\n"},
		{"components", "components:\n  - " + remote + "\n"},
		{"crds", "crds:\n  - " + remote + "\n"},
		{"patches", "patches:\n  - path: " + remote + "\n"},
		{"patchesStrategicMerge", "patchesStrategicMerge:\n  - " + remote + "\n"},
		{"patchesJson6902", "patchesJson6902:\n  - target: {version: v1, kind: ConfigMap, name: settings}\n    path: " + remote + "\n"},
		{"configMapGenerator", "configMapGenerator:\n  - name: remote\n    files:\n      - " + remote + "\n"},
		{"secretGenerator", "secretGenerator:\n  - name: remote\n    envs:\n      - " + remote + "\n"},
		{"generators", "generators:\n  - " + remote + "\n"},
		{"transformers", "transformers:\n  - " + remote + "\n"},
		{"validators", "validators:\n  - " + remote + "\n"},
		{"configurations", "configurations:\n  - " + remote + "\n"},
		{"openapi", "openapi:\n  path: " + remote + "\n"},
		{"replacements", "replacements:\n  - path: " + remote + "\n"},
		{"helmCharts", "helmCharts:\n  - name: web\n    repo: https://charts.example.org\n    version: 1.0.0\n"},
		{"ssh-git", "  - ssh://git@github.com/example-org/base.git//deploy\n"},
		{"git-scp", "  - git@github.com:example-org/base.git//deploy\n"},
	} {
		tc := hostileCase{name: "remote/" + field.name, code: exitFailed, at: "apps/dev/kustomization.yaml", want: "remote bases and remote files are not allowed", files: withKustomize(field.yaml), cluster: field.name == "resources"}
		if field.name == "helmCharts" {
			// kustomize refuses helmCharts before it reads the URL.
			tc.at, tc.want = "clusters/dev/apps.yaml:1", "must specify --enable-helm"
		}
		cases = append(cases, tc)
	}
	return cases
}

// billionLaughs stays under the alias count check (81 aliases) but would
// expand to 9^9 strings.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, c := range "bcdefghi" {
		fmt.Fprintf(&b, "  %c: &%c [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", c, c, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = string(c)
	}
	return b.String()
}

// deepBlock nests n block mappings. Indentation makes the file grow with
// the square of the depth: 3,000 levels is 4.5 MB, under --max-file-size.
func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", 2+i) + "k:\n")
	}
	return b.String()
}

// helmRelease is a HelmRelease of a chart in the flux-system source.
func helmRelease(chart, spec string) string {
	return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
spec:
  interval: 10m
  chart:
    spec:
      chart: ` + chart + `
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
` + spec
}

// tarSlipChart is a packaged chart with entries that climb out of any
// folder it is unpacked into.
func tarSlipChart(t *testing.T) string {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{
		"slip/Chart.yaml":                      "apiVersion: v2\nname: slip\nversion: 0.1.0\n",
		"slip/templates/cm.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slip\n",
		"slip/../../../../../escaped.yaml":     "escaped: true\n",
		"../../../../../../../../escaped.yaml": "escaped: true\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
