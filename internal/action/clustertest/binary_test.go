package clustertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/testcluster"
)

// binary is slipway built once for the package, as the image builds it.
var binary struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

func slipwayBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		root, err := testcluster.RepoRoot()
		if err != nil {
			binary.err = err
			return
		}
		dir, err := os.MkdirTemp("", "slipway-action-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "slipway")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binary.path, "./cmd/slipway")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		binary.out, binary.err = cmd.CombinedOutput()
	})
	if binary.err != nil {
		t.Fatalf("building slipway: %v\n%s", binary.err, binary.out)
	}
	return binary.path
}

// TestBinaryAsTheRunnerRunsIt runs the built binary the way the Actions
// runner runs the container's entrypoint — environment and files only —
// for a push that deploys, a pull request that diffs (comment and check on
// the head SHA), and a validation failure.
func TestBinaryAsTheRunnerRunsIt(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	bin := slipwayBinary(t)
	f := actiontest.NewFleet(t)
	base := f.Commit("base")

	// Push: deploys clusters/a.
	r := actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": github.ZeroSHA, "after": base})
	r.Env["GITHUB_SHA"] = base
	r.Env["INPUT_KUBECONFIG"] = kubeconfig
	r.Env["INPUT_PATH"] = "clusters/a"
	if code := r.RunBinary(bin); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, r.Log.String())
	}
	if o := r.Outputs(); o["result"] != "success" || o["changed"] != "true" {
		t.Errorf("push outputs: %v", o)
	}
	if !strings.Contains(r.File("summary"), "clusters/a") {
		t.Errorf("push summary:\n%s", r.File("summary"))
	}
	actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)

	// Pull request: a diff comment and a check on the head commit.
	f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", "7")})
	head := f.Commit("bump", base)
	merge := f.Commit("merge", base, head)
	r = actiontest.NewRunner(t, srv, f.Dir, "pull_request", actiontest.PRPayload(12, head, base, actiontest.Owner+"/"+actiontest.Repo))
	r.Env["GITHUB_SHA"] = merge
	if code := r.RunBinary(bin); code != 0 {
		t.Fatalf("pull request: exit %d\n%s", code, r.Log.String())
	}
	comments := srv.Comments(12)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "ConfigMap/app-a/settings") {
		t.Errorf("pull request comments: %+v", comments)
	}
	onHead := false
	for _, cr := range srv.CheckRuns() {
		if cr.HeadSHA == merge {
			t.Errorf("check run %q on the merge commit, want the head commit", cr.Name)
		}
		onHead = onHead || cr.HeadSHA == head
	}
	if !onHead {
		t.Errorf("no check run on the pull request's head commit")
	}
	actiontest.AssertNoSecrets(t, srv, r, actiontest.SecretValue, actiontest.Token)

	// A validation failure: exit 1, an annotation at the file and line.
	f.Write(map[string]string{"apps/a/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: app-a\ndata:\n  n: 1\n  n: 2\n"})
	bad := f.Commit("bad")
	r = actiontest.NewRunner(t, srv, f.Dir, "push", map[string]any{"ref": "refs/heads/main", "before": base, "after": bad})
	r.Env["GITHUB_SHA"] = bad
	r.Env["INPUT_MODE"] = "validate"
	if code := r.RunBinary(bin); code != 1 {
		t.Fatalf("invalid push: exit %d, want 1\n%s", code, r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "::error file=apps/a/bad.yaml,line=") && !hasAnnotation(srv, bad, "apps/a/bad.yaml") {
		t.Errorf("no annotation at apps/a/bad.yaml\n%s", r.Log.String())
	}
}

func hasAnnotation(srv *githubtest.Server, sha, path string) bool {
	for _, cr := range srv.CheckRuns() {
		if cr.HeadSHA != sha {
			continue
		}
		for _, a := range cr.Annotations {
			if a.Path == path {
				return true
			}
		}
	}
	return false
}
