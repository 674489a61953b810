package bootstrap_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testcluster"
)

// TestCLI runs check --pre, bootstrap github (twice) and uninstall as a
// user would: the built binary, flags and GITHUB_TOKEN, against the fake
// GitHub (GITHUB_API_URL) and the local cluster.
func TestCLI(t *testing.T) {
	w := newWorld(t)
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "slipway")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "slipway")).CombinedOutput(); err != nil {
		t.Fatalf("building slipway: %v\n%s", err, out)
	}
	run := func(args ...string) (string, int) {
		t.Helper()
		var out bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = []string{"HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH"), "GITHUB_TOKEN=" + token, "GITHUB_API_URL=" + w.gh.URL}
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	kc := "--kubeconfig=" + local.Kubeconfig

	out, code := run("check", "--pre", kc, "--owner", owner, "--repository", repo)
	if code != 0 || !strings.Contains(out, "✔ all checks passed") || !strings.Contains(out, "does not exist yet") {
		t.Fatalf("check --pre: exit %d\n%s", code, out)
	}
	out, code = run("bootstrap", "github", kc, "--owner", owner, "--repository", repo, "--personal", "--path", "clusters/cli")
	if code != 0 || !strings.Contains(out, "✔ bootstrap finished") || strings.Contains(out, token) {
		t.Fatalf("bootstrap: exit %d\n%s", code, out)
	}
	out, code = run("bootstrap", "github", kc, "--owner", owner, "--repository", repo, "--personal", "--path", "clusters/cli")
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Fatalf("second bootstrap: exit %d\n%s", code, out)
	}
	// The workflow's first push deploy, as the workflow runs it.
	dir, _ := w.clone()
	if out, code = run("apply", kc, "--repo", dir, "--path", "clusters/cli"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	// Without a terminal, uninstall refuses unless told --silent.
	if out, code = run("uninstall", kc); code == 0 || !strings.Contains(out, "--silent") {
		t.Errorf("uninstall without a terminal or --silent: exit %d\n%s", code, out)
	}
	out, code = run("uninstall", kc, "--silent", "--github", "--owner", owner, "--repository", repo, "--path", "clusters/cli")
	if code != 0 || !strings.Contains(out, "✔ uninstall finished") {
		t.Fatalf("uninstall: exit %d\n%s", code, out)
	}
	if _, ok := exists(t, "rbac.authorization.k8s.io/v1 ClusterRoleBinding", "", "slipway-deployer"); ok {
		t.Errorf("the deployer's binding is left after uninstall")
	}
	if _, err := w.gh.OpenSecret(owner, repo, "cli", "SLIPWAY_KUBECONFIG"); err == nil {
		t.Errorf("the kubeconfig secret is left after uninstall --github")
	}
}
