package testcluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// ModulePath is the module whose root holds hack/cluster.
	ModulePath = "github.com/slipwayhq/slipway"

	// SkipEnv is the environment variable that, set to "1", makes [ForTest]
	// skip the test instead of starting a cluster.
	SkipEnv = "SLIPWAY_SKIP_CLUSTER"

	// DefaultNodes is the number of simulated nodes when Options.Nodes is 0.
	DefaultNodes = 2

	// DefaultReadyTimeout bounds the wait for the API server and the nodes
	// once the binaries are built.
	DefaultReadyTimeout = 2 * time.Minute

	namePrefix = "testcluster-"
)

// Cluster names as accepted by hack/cluster/up.sh.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$`)

// Options configures [Start]. The zero value is a good default.
type Options struct {
	// Name of the cluster. Default: "testcluster-" plus a random suffix.
	// Lowercase letters, digits and '-', at most 42 characters.
	Name string

	// Nodes is the number of simulated nodes: 0 means DefaultNodes, a
	// negative number means none.
	Nodes int

	// StateDir overrides SLIPWAY_CLUSTER_STATE, the folder holding the
	// state of all clusters (default $HOME/.cache/slipway/clusters).
	StateDir string

	// ReadyTimeout bounds the wait for readiness after the binaries are
	// built. Default: DefaultReadyTimeout. Building is bounded only by ctx.
	ReadyTimeout time.Duration

	// Log receives the progress output of the cluster scripts (building,
	// starting, stopping). Nil discards it; errors still carry its tail.
	Log io.Writer

	// AuthenticationConfig, if set, is an AuthenticationConfiguration
	// (YAML) for the API server's --authentication-config: tests of OIDC
	// authentication make it trust a local issuer. The API server's own
	// client certificates and service account tokens keep working.
	AuthenticationConfig string

	// APIServerArgs are extra kube-apiserver flags as "name=value", without
	// leading dashes (e.g. "authentication-token-webhook-config-file=/f").
	APIServerArgs []string
}

// Cluster is a running local cluster. Stop it with [Cluster.Stop].
type Cluster struct {
	// Name of the cluster.
	Name string
	// Kubeconfig is the path of a kubeconfig with cluster-admin rights.
	Kubeconfig string
	// Dir is the cluster's state folder; Stop removes it.
	Dir string

	root     string
	env      []string
	log      io.Writer
	owner    string
	files    []string
	stopOnce sync.Once
	stopErr  error
}

// Start builds the cluster binaries if needed (hack/cluster/build.sh), starts
// a cluster (hack/cluster/up.sh) and waits until the API server, the nodes and
// the default service account are ready. On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name, err = randomName()
		if err != nil {
			return nil, err
		}
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("testcluster: invalid cluster name %q", name)
	}
	nodes := opts.Nodes
	switch {
	case nodes == 0:
		nodes = DefaultNodes
	case nodes < 0:
		nodes = 0
	}
	timeout := opts.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}

	env := os.Environ()
	if opts.StateDir != "" {
		env = append(env, "SLIPWAY_CLUSTER_STATE="+opts.StateDir)
	}
	state, err := stateDir(opts.StateDir)
	if err != nil {
		return nil, err
	}

	c := &Cluster{
		Name: name,
		Dir:  filepath.Join(state, "clusters", name),
		root: root,
		env:  env,
		log:  opts.Log,
	}

	// Remove clusters whose test process died without stopping them.
	reapOrphans(ctx, c, state)

	// Record which process owns the cluster, so that a later Start can remove
	// it if this process dies without calling Stop.
	owners := filepath.Join(state, "owners")
	if err := os.MkdirAll(owners, 0o755); err != nil {
		return nil, fmt.Errorf("testcluster: %w", err)
	}
	c.owner = filepath.Join(owners, name)
	if err := os.WriteFile(c.owner, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("testcluster: %w", err)
	}

	apiArgs, err := c.apiServerArgs(state, opts)
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	upEnv := append(c.env[:len(c.env):len(c.env)],
		"SLIPWAY_CLUSTER_NODES="+strconv.Itoa(nodes),
		"SLIPWAY_CLUSTER_WAIT="+strconv.Itoa(int((timeout+time.Second-1)/time.Second)),
		"SLIPWAY_CLUSTER_APISERVER_ARGS="+strings.Join(apiArgs, "\n"),
	)
	out, err := c.up(ctx, upEnv)
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	c.Kubeconfig = lastLine(out)
	if _, err := os.Stat(c.Kubeconfig); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("testcluster: up.sh printed %q, not a kubeconfig: %w", c.Kubeconfig, err)
	}
	return c, nil
}

// up runs up.sh, and once more after removing the cluster when the first
// start fails: on a loaded machine a component can lose the port kwokctl
// probed for it to another process before it binds it (seen: the nodes
// never become Ready), and a second start picks other ports. The
// components' last log lines of the failed start are kept in the log.
func (c *Cluster) up(ctx context.Context, env []string) (string, error) {
	out, err := c.script(ctx, env, "up.sh", c.Name)
	if err == nil || ctx.Err() != nil {
		return out, err
	}
	w := c.log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "testcluster: %s did not start; its components' last log lines, then a second start:\n", c.Name)
	logs, _ := filepath.Glob(filepath.Join(c.Dir, "logs", "*.log"))
	for _, l := range logs {
		if data, rerr := os.ReadFile(l); rerr == nil {
			fmt.Fprintf(w, "== %s\n%s\n", filepath.Base(l), lastBytes(data, 2<<10))
		}
	}
	_, _ = c.script(ctx, c.env, "down.sh", c.Name)
	return c.script(ctx, env, "up.sh", c.Name)
}

// lastBytes is the end of data, at most n bytes.
func lastBytes(data []byte, n int) []byte {
	if len(data) > n {
		return data[len(data)-n:]
	}
	return data
}

// apiServerArgs returns the extra API server flags of opts, writing the
// authentication configuration to a file that lives as long as the cluster
// (kwokctl's own folder for it does not exist before up.sh runs, and a
// restart reads the flag again).
func (c *Cluster) apiServerArgs(state string, opts Options) ([]string, error) {
	args := make([]string, 0, len(opts.APIServerArgs)+1)
	for _, a := range opts.APIServerArgs {
		a = strings.TrimPrefix(a, "--")
		if !strings.Contains(a, "=") || strings.ContainsAny(a, "\n\r") {
			return nil, fmt.Errorf("testcluster: API server flag %q: want name=value on one line", a)
		}
		args = append(args, a)
	}
	if opts.AuthenticationConfig == "" {
		return args, nil
	}
	dir := filepath.Join(state, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testcluster: %w", err)
	}
	path := filepath.Join(dir, c.Name+"-authentication.yaml")
	c.files = append(c.files, path)
	if err := os.WriteFile(path, []byte(opts.AuthenticationConfig), 0o644); err != nil {
		return nil, fmt.Errorf("testcluster: %w", err)
	}
	return append(args, "authentication-config="+path), nil
}

// ForTest starts a cluster for a test and stops it when the test and its
// subtests finish. It skips the test if SLIPWAY_SKIP_CLUSTER=1 and fails it
// if the cluster cannot start. Script output goes to the test log if
// opts.Log is nil.
func ForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if reason := SkipReason(); reason != "" {
		t.Skip(reason + ": skipping test that needs a local cluster")
	}
	if opts.Log == nil {
		opts.Log = &testLogWriter{t: t}
	}
	c, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("start local cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop local cluster: %v", err)
		}
	})
	return c
}

// Stop stops the cluster and removes its state. It is safe to call more than
// once and on a partially started cluster.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, c.stopErr = c.script(ctx, c.env, "down.sh", c.Name)
		if c.stopErr == nil && c.owner != "" {
			_ = os.Remove(c.owner)
		}
		for _, f := range c.files {
			_ = os.Remove(f)
		}
	})
	return c.stopErr
}

// KillAPIServer kills the cluster's kube-apiserver with SIGKILL, as a crash
// or the OOM killer would. The controller manager and the scheduler exit
// soon after (they lose their leader lease); [Cluster.Restart] brings the
// whole control plane back.
func (c *Cluster) KillAPIServer() error {
	data, err := os.ReadFile(filepath.Join(c.Dir, "pids", "kube-apiserver.pid"))
	if err != nil {
		return fmt.Errorf("testcluster: the API server's pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("testcluster: the API server's pid file holds %q", data)
	}
	p, err := os.FindProcess(pid)
	if err == nil {
		err = p.Kill()
	}
	if err != nil {
		return fmt.Errorf("testcluster: killing the API server (pid %d): %w", pid, err)
	}
	return nil
}

// Restart stops the components still running, starts all of them again
// (hack/cluster/restart.sh) and waits until the API server is ready.
func (c *Cluster) Restart(ctx context.Context) error {
	_, err := c.script(ctx, c.env, "restart.sh", c.Name)
	return err
}

// Kubectl runs kubectl against the cluster and returns its standard output.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	return c.KubectlStdin(ctx, "", args...)
}

// KubectlStdin is [Cluster.Kubectl] with the given standard input.
func (c *Cluster) KubectlStdin(ctx context.Context, stdin string, args ...string) (string, error) {
	kubectl, err := kubectlPath()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Apply applies a YAML or JSON manifest with kubectl apply.
func (c *Cluster) Apply(ctx context.Context, manifest string) error {
	_, err := c.KubectlStdin(ctx, manifest, "apply", "-f", "-")
	return err
}

// BindUser binds user to the ClusterRole clusterRole with a
// ClusterRoleBinding named name, and waits until the API server's
// authorizer lets the user act on it.
func (c *Cluster) BindUser(ctx context.Context, name, user, clusterRole string) error {
	err := c.Apply(ctx, fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %q}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %q}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %q}]
`, name, clusterRole, user))
	if err != nil {
		return err
	}
	return c.WaitCan(ctx, user, "list", "configmaps", "kube-system")
}

// ForWebhookAuth starts a test cluster whose API server asks the token
// webhook of configFile who a bearer token belongs to (as EKS, GKE and
// AKS clusters do), with user bound to clusterRole.
func ForWebhookAuth(t testing.TB, configFile, user, clusterRole string) *Cluster {
	t.Helper()
	c := ForTest(t, Options{Nodes: -1, APIServerArgs: []string{
		"authentication-token-webhook-config-file=" + configFile,
		"authentication-token-webhook-version=v1",
	}})
	if err := c.BindUser(context.Background(), "webhook-user", user, clusterRole); err != nil {
		t.Fatal(err)
	}
	return c
}

// WaitCan waits until the API server's authorizer lets user do verb on
// resource in namespace ("" for cluster scope). RBAC objects reach the
// authorizer through an informer, so a binding applied a moment ago may not
// be in effect yet; a test that acts as the bound user right away fails on a
// loaded machine with a 403 that has nothing to do with what it tests.
func (c *Cluster) WaitCan(ctx context.Context, user, verb, resource, namespace string) error {
	args := []string{"auth", "can-i", verb, resource, "--as", user}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.Kubectl(ctx, args...)
		if err == nil && strings.TrimSpace(out) == "yes" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testcluster: %s still may not %s %s after 30s: %v", user, verb, resource, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Binaries builds the cluster binaries if needed and returns their folder.
func Binaries(ctx context.Context) (string, error) {
	return build(ctx)
}

// EnvtestAssets builds kube-apiserver and etcd if needed and returns the
// folder holding them, for use as KUBEBUILDER_ASSETS with controller-runtime
// envtest (the folder also holds the other cluster binaries).
func EnvtestAssets() (string, error) {
	return build(context.Background(), "kube-apiserver", "etcd")
}

func build(ctx context.Context, binaries ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	c := &Cluster{root: root, env: os.Environ()}
	out, err := c.script(ctx, c.env, "build.sh", binaries...)
	if err != nil {
		return "", err
	}
	return lastLine(out), nil
}

// RepoRoot returns the root of the slipway module: the nearest folder, from
// the working directory upwards, whose go.mod declares [ModulePath].
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testcluster: %w", err)
	}
	for {
		if modulePathOf(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testcluster: no go.mod for module %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// modulePathOf returns the module path declared by a go.mod file, or "".
func modulePathOf(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// script runs hack/cluster/<name> and returns its standard output. Standard
// error goes to c.log; its tail is included in the error on failure.
func (c *Cluster) script(ctx context.Context, env []string, name string, args ...string) (string, error) {
	path := filepath.Join(c.root, "hack", "cluster", name)
	cmd := exec.CommandContext(ctx, "bash", append([]string{path}, args...)...)
	cmd.Dir = c.root
	cmd.Env = env
	var stdout bytes.Buffer
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stdout = &stdout
	if c.log != nil {
		cmd.Stderr = io.MultiWriter(tail, c.log)
	} else {
		cmd.Stderr = tail
	}
	setProcessGroup(cmd)
	// Never hang on a pipe held open by a process the script left running.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("testcluster: %s %s: %w\n%s", name, strings.Join(args, " "), err, tail.String())
	}
	return stdout.String(), nil
}

// reapOrphans stops clusters whose owning process no longer runs.
func reapOrphans(ctx context.Context, c *Cluster, state string) {
	entries, err := os.ReadDir(filepath.Join(state, "owners"))
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !nameRE.MatchString(name) {
			continue
		}
		path := filepath.Join(state, "owners", name)
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		orphan := &Cluster{Name: name, root: c.root, env: c.env, log: c.log}
		if _, err := orphan.script(ctx, c.env, "down.sh", name); err == nil {
			_ = os.Remove(path)
		}
	}
}

func stateDir(override string) (string, error) {
	if override != "" {
		return filepath.Abs(override)
	}
	if s := os.Getenv("SLIPWAY_CLUSTER_STATE"); s != "" {
		return filepath.Abs(s)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("testcluster: %w", err)
	}
	return filepath.Join(home, ".cache", "slipway", "clusters"), nil
}

func kubectlPath() (string, error) {
	if k := os.Getenv("KUBECTL"); k != "" {
		return k, nil
	}
	k, err := exec.LookPath("kubectl")
	if err != nil {
		return "", errors.New("testcluster: kubectl not found in PATH (or set KUBECTL)")
	}
	return k, nil
}

func randomName() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("testcluster: %w", err)
	}
	return namePrefix + hex.EncodeToString(b), nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// testLogWriter sends complete lines to t.Log.
type testLogWriter struct {
	t   testing.TB
	mu  sync.Mutex
	buf []byte
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.t.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
