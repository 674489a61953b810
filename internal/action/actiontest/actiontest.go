// Package actiontest holds the fixtures of slipway action's end-to-end tests:
// a Flux repository in a real Git repository, and a step environment with
// the files the runner provides. It is test infrastructure: import it only
// from _test.go files.
package actiontest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipwayhq/slipway/internal/action"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
)

// Test values: the GitHub token and the value of the Secret every cluster
// path substitutes. Neither may reach GitHub, a summary or an output.
const (
	Token       = "ghs_TESTTOKENvalue0123456789abcdef"
	SecretValue = "hunter2-very-secret-value"
	Owner, Repo = "acme", "fleet"
)

// fleet is a Git repository laid out as Flux bootstrap writes it, with two
// cluster paths. clusters/a has an apps Kustomization whose ConfigMap
// takes a variable from a Secret, so a diff of it would show a secret
// value if masking failed.
type Fleet struct {
	t *testing.T
	// Dir is the worktree, the step's GITHUB_WORKSPACE.
	Dir string
	git *git.Repository
}

// ClusterFiles are the files of cluster path clusters/<name> and its apps.
func ClusterFiles(name string) map[string]string {
	p := "clusters/" + name
	return map[string]string{
		p + "/flux-system/gotk-sync.yaml": fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://example.invalid/acme/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./%s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`, p),
		p + "/flux-system/namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n",
		p + "/flux-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - gotk-sync.yaml\n",
		p + "/vars.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: vars
  namespace: flux-system
stringData:
  DB_PASSWORD: ` + SecretValue + `
`,
		p + "/apps.yaml": fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./apps/%s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - kind: Secret
        name: vars
`, name),
		"apps/" + name + "/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app-" + name + "\n",
		"apps/" + name + "/config.yaml":    ConfigMap(name, "1"),
	}
}

// ConfigMap is apps/<name>/config.yaml with the given version.
func ConfigMap(name, version string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: app-%s
data:
  url: postgres://app:${DB_PASSWORD}@db
  version: "%s"
`, name, version)
}

// NewFleet writes clusters/a and clusters/b in a new Git repository,
// uncommitted.
func NewFleet(t *testing.T) *Fleet {
	t.Helper()
	dir := t.TempDir()
	g, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fleet{t: t, Dir: dir, git: g}
	f.Write(ClusterFiles("a"))
	f.Write(ClusterFiles("b"))
	return f
}

// Write writes files into the worktree.
func (f *Fleet) Write(files map[string]string) {
	f.t.Helper()
	for name, content := range files {
		p := filepath.Join(f.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

// Commit commits the worktree with the given parents (none: HEAD's).
func (f *Fleet) Commit(msg string, parents ...string) string {
	f.t.Helper()
	wt, err := f.git.Worktree()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		f.t.Fatal(err)
	}
	opts := &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.invalid", When: time.Now()}, AllowEmptyCommits: true}
	for _, p := range parents {
		opts.Parents = append(opts.Parents, plumbing.NewHash(p))
	}
	h, err := wt.Commit(msg, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return h.String()
}

// Checkout checks out commit in the worktree, as actions/checkout does for
// a run of that commit.
func (f *Fleet) Checkout(commit string) {
	f.t.Helper()
	wt, err := f.git.Worktree()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(commit), Force: true}); err != nil {
		f.t.Fatal(err)
	}
}

// Runner is one `slipway action` invocation's environment.
type Runner struct {
	t *testing.T
	// Env is the step environment; tests add inputs (INPUT_*) to it.
	Env map[string]string
	dir string
	// Log is the step log of the last Run.
	Log bytes.Buffer
	// GitHub are the GitHub client's options for Run; tests replace
	// Sleep to record backoff without waiting it out.
	GitHub github.Options
	// Differ replaces the offline diff for Run; nil means the real one.
	Differ action.Differ
}

// NewRunner prepares a step for event with payload, against srv (nil: no
// API URL).
func NewRunner(t *testing.T, srv *githubtest.Server, workspace, event string, payload any) *Runner {
	t.Helper()
	dir := t.TempDir()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	ev := filepath.Join(dir, "event.json")
	if err := os.WriteFile(ev, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{t: t, dir: dir, Env: map[string]string{
		"GITHUB_EVENT_NAME":   event,
		"GITHUB_EVENT_PATH":   ev,
		"GITHUB_WORKSPACE":    workspace,
		"GITHUB_REPOSITORY":   Owner + "/" + Repo,
		"GITHUB_SERVER_URL":   "https://github.example",
		"GITHUB_RUN_ID":       "42",
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"INPUT_GITHUB-TOKEN":  Token,
		"INPUT_CACHE-DIR":     filepath.Join(dir, "cache"),
	}}
	if srv != nil {
		r.Env["GITHUB_API_URL"] = srv.URL
	}
	r.GitHub = github.Options{MaxRetryWait: 5 * time.Second}
	return r
}

// Run runs `slipway action` with a fresh log, output and summary.
func (r *Runner) Run() action.Outcome {
	r.t.Helper()
	return r.RunContext(context.Background())
}

// RunContext is Run with ctx, which a test may cancel as a signal would.
func (r *Runner) RunContext(ctx context.Context) action.Outcome {
	r.t.Helper()
	r.Log.Reset()
	for _, f := range []string{"output", "summary"} {
		_ = os.Remove(filepath.Join(r.dir, f))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return action.Run(ctx, action.Options{
		Getenv:  func(k string) string { return r.Env[k] },
		Stdout:  &r.Log,
		Version: "test",
		GitHub:  r.GitHub,
		Differ:  r.Differ,
	})
}

// RunBinary runs a built slipway binary as the Actions runner runs a
// container action's entrypoint: `slipway action`, the step environment
// and nothing else (plus PATH and HOME), the log on stdout. It returns the
// exit code.
func (r *Runner) RunBinary(bin string) int {
	r.t.Helper()
	return r.Start(bin).Wait()
}

// Process is a started `slipway action`.
type Process struct {
	r      *Runner
	cmd    *exec.Cmd
	cancel context.CancelFunc
}

// Start starts bin as RunBinary does, without waiting for it. extraEnv
// ("K=V") is added to the step environment.
func (r *Runner) Start(bin string, extraEnv ...string) *Process {
	r.t.Helper()
	r.Log.Reset()
	for _, f := range []string{"output", "summary"} {
		_ = os.Remove(filepath.Join(r.dir, f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "action")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range r.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Dir = r.Env["GITHUB_WORKSPACE"]
	cmd.Stdout = &r.Log
	cmd.Stderr = &r.Log
	if err := cmd.Start(); err != nil {
		cancel()
		r.t.Fatalf("starting %s: %v", bin, err)
	}
	return &Process{r: r, cmd: cmd, cancel: cancel}
}

// Signal sends sig to the process, as the runner does when a workflow run
// is cancelled.
func (p *Process) Signal(sig os.Signal) {
	p.r.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.r.t.Fatalf("signalling slipway: %v", err)
	}
}

// Wait waits for the process to exit and returns its exit code.
func (p *Process) Wait() int {
	p.r.t.Helper()
	defer p.cancel()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		p.r.t.Fatalf("running slipway: %v", err)
		return -1
	}
}

// File reads one of the step files: "output" or "summary".
func (r *Runner) File(name string) string {
	data, _ := os.ReadFile(filepath.Join(r.dir, name))
	return string(data)
}

// Outputs parses GITHUB_OUTPUT's delimiter syntax.
func (r *Runner) Outputs() map[string]string {
	out := map[string]string{}
	lines := strings.Split(r.File("output"), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// AssertNoSecrets fails if a secret value reached anything GitHub or a
// later step would see: request bodies, the summary, outputs, the log
// (where only ::add-mask:: may name it).
func AssertNoSecrets(t *testing.T, srv *githubtest.Server, r *Runner, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if srv != nil {
			for _, req := range srv.Requests() {
				if strings.Contains(req.Body, s) {
					t.Errorf("request %s %s carries a secret value", req.Method, req.Path)
				}
			}
		}
		if strings.Contains(r.File("summary"), s) || strings.Contains(r.File("output"), s) {
			t.Errorf("summary or outputs carry a secret value")
		}
		for _, line := range strings.Split(r.Log.String(), "\n") {
			if strings.Contains(line, s) && !strings.HasPrefix(line, "::add-mask::") {
				t.Errorf("log line carries a secret value: %q", line)
			}
		}
		ws := r.Env["GITHUB_WORKSPACE"]
		for _, f := range []string{"summary.md", "diff.md", "report.html"} {
			data, _ := os.ReadFile(filepath.Join(ws, ".slipway", f))
			if strings.Contains(string(data), s) {
				t.Errorf(".slipway/%s carries a secret value", f)
			}
		}
	}
}

// PRPayload is a pull_request event payload.
func PRPayload(number int, head, base, headRepo string) map[string]any {
	return map[string]any{
		"action": "synchronize",
		"number": number,
		"pull_request": map[string]any{
			"number": number,
			"head":   map[string]any{"sha": head, "repo": map[string]any{"full_name": headRepo}},
			"base":   map[string]any{"sha": base, "ref": "main", "repo": map[string]any{"full_name": Owner + "/" + Repo}},
		},
	}
}
