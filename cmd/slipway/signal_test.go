package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// The runner cancels a workflow run by signalling the step's process.
// slipway, started as the runner starts it, is signalled while a request
// to GitHub hangs: it must stop, complete the check run it opened as
// cancelled (left in progress it would block merging) and exit with the
// signal's code.
func TestActionCancelledBySignal(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGTERM, 143},
		{syscall.SIGINT, 130},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			f := actiontest.NewFleet(t)
			after := f.Commit("base")
			srv := githubtest.New(actiontest.Owner, actiontest.Repo)
			defer srv.Close()
			srv.AddToken(actiontest.Token, githubtest.WriteAll)
			release := make(chan struct{})
			defer close(release)
			// clusters/a's check run is created; creating clusters/b's
			// never gets an answer.
			srv.Inject(githubtest.Fault{Method: "POST", Path: githubtest.PathCheckRuns, Times: 1})
			hang := srv.Inject(githubtest.Fault{Method: "POST", Path: githubtest.PathCheckRuns, Times: 1, Block: release})

			r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": after})
			r.Env["GITHUB_SHA"] = after
			proc := r.Start(os.Args[0], runMainEnv+"=1")
			deadline := time.Now().Add(2 * time.Minute)
			for hang.Hits() == 0 {
				if time.Now().After(deadline) {
					proc.Signal(syscall.SIGKILL)
					proc.Wait()
					t.Fatalf("slipway never reached the hanging request:\n%s", r.Log.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			start := time.Now()
			proc.Signal(tc.sig)
			code := proc.Wait()
			took := time.Since(start)

			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, r.Log.String())
			}
			runs := srv.CheckRuns()
			if len(runs) != 1 || runs[0].Name != "slipway / clusters/a" || runs[0].Status != "completed" || runs[0].Conclusion != "cancelled" {
				t.Errorf("check runs %+v: want clusters/a completed as cancelled", runs)
			}
			if took > 10*time.Second {
				t.Errorf("took %s to stop after the signal", took)
			}
			if o := r.Outputs(); o["result"] != "cancelled" {
				t.Errorf("outputs %v", o)
			}
			if !strings.Contains(r.File("summary"), "cancelled") {
				t.Errorf("the summary does not say the run was cancelled:\n%s", r.File("summary"))
			}
		})
	}
}

func TestSignalExitCode(t *testing.T) {
	for _, tc := range []struct {
		code                   int
		interrupted, cancelled bool
		want                   int
	}{
		{0, false, false, 0},
		{1, false, false, 1},
		{1, false, true, 143},
		// SIGINT cancels both contexts.
		{1, true, true, 130},
	} {
		if got := signalExitCode(tc.code, tc.interrupted, tc.cancelled); got != tc.want {
			t.Errorf("signalExitCode(%d, %v, %v) = %d, want %d", tc.code, tc.interrupted, tc.cancelled, got, tc.want)
		}
	}
}

// A validate busy in kustomize (which never looks at the context) stops
// within its grace after SIGINT or SIGTERM, with the signal's exit code.
func TestValidateStopsOnSignal(t *testing.T) {
	root := testutil.RepoRoot(t)
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(root, "testdata", "broken", "url-credentials", "repo"))); err != nil {
		t.Fatal(err)
	}
	// Eight Kustomizations of 4,500 objects each: many seconds of kustomize.
	var docs strings.Builder
	for i := range 4500 {
		fmt.Fprintf(&docs, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\n  namespace: default\ndata: {k: v}\n", i)
	}
	files := map[string]string{"apps/dev/kustomization.yaml": "resources: []\n"}
	for k := range 8 {
		dir := fmt.Sprintf("apps/big%d", k)
		files[dir+"/many.yaml"] = docs.String()
		files[dir+"/kustomization.yaml"] = "resources:\n  - many.yaml\n"
		files[fmt.Sprintf("clusters/dev/big%d.yaml", k)] = fmt.Sprintf("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: big%d\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./%s\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n", k, dir)
	}
	for name, content := range files {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitInterrupted}, {syscall.SIGTERM, exitTerminated}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "validate", "--repo", repo, "--no-build-cache")
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // well inside the build
			start := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			took := time.Since(start)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit %v, want %d\n%s", err, tc.code, out.String())
			}
			// The grace is 2 s; a loaded machine may add a little.
			if took > 4*time.Second {
				t.Errorf("took %s to stop after %s", took, tc.sig)
			}
		})
	}
}
