package clustertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/result"
)

// reconcileCLI runs the built `slipway reconcile` on clusters/a of dir and
// returns its exit code and output; nothing secret may be in either.
func reconcileCLI(t *testing.T, bin, dir string, args ...string) (int, string) {
	t.Helper()
	args = append([]string{"reconcile", "--repo", dir, "--kubeconfig", local.Kubeconfig, "--cache-dir", t.TempDir()}, args...)
	cmd := exec.Command(bin, append(args, "clusters/a")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	if strings.Contains(stdout.String()+stderr.String(), actiontest.SecretValue) {
		t.Errorf("slipway %v shows a secret value:\n%s\n%s", args, stdout.String(), stderr.String())
	}
	t.Logf("slipway %s: exit %d\n%s%s", strings.Join(args[:1], " "), code, stdout.String(), stderr.String())
	return code, stdout.String()
}

// reconcileJSON decodes -o json's one path.
func reconcileJSON(t *testing.T, out string) *result.PathReconcile {
	t.Helper()
	var res result.Reconcile
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Paths) != 1 {
		t.Fatalf("reconcile JSON: %v\n%s", err, out)
	}
	return res.Paths[0]
}

// driftRowsOf are the drift table's rows of a CLI result, as the action
// renders them in its summary.
func driftRowsOf(pr *result.PathReconcile, driftOnly bool) []string {
	var rows []string
	for _, line := range strings.Split(report.DriftMarkdown(pr.Deploy, pr.Drift, driftOnly), "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Object |") {
			rows = append(rows, line)
		}
	}
	return rows
}

// `slipway reconcile` and the action's scheduled run are one engine: deploy
// A, deploy B, edit by hand, move head to C. --drift-only reports the
// drift against B (exit 3) and changes nothing, as the action's drift mode
// reports it; `slipway reconcile` restores B, not C, reporting the fields
// it reverted, as the action's scheduled reconcile does.
func TestReconcileFrontEndsAgree(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	bin := slipwayBinary(t)
	c := &continuousFleet{t: t, f: actiontest.NewFleet(t), srv: srv, kubeconfig: kubeconfig}
	a := c.commit("A")
	c.push(github.ZeroSHA, a)
	b := c.commit("B")
	c.push(a, b)
	editByHand(t)
	c.commit("C")

	code, out := reconcileCLI(t, bin, c.f.Dir, "--drift-only", "-o", "json")
	if code != 3 {
		t.Fatalf("reconcile --drift-only with drift: exit %d, want 3 (changes found)", code)
	}
	if v := liveVersion(t); v != "edited-by-hand" {
		t.Fatalf("--drift-only changed the cluster: version %q", v)
	}
	pr := reconcileJSON(t, out)
	if pr.Target.Commit != b || pr.Target.Reason != result.TargetRecorded || pr.Deploy == nil || !pr.Deploy.DryRun {
		t.Errorf("--drift-only target: %+v (want the recorded B %s), deploy %+v", pr.Target, b, pr.Deploy)
	}
	cliRows := driftRowsOf(pr, true)
	if !containsLine(cliRows, "| ConfigMap/app-a/settings | `data.version` | `edited-by-hand` | `B` |") {
		t.Errorf("--drift-only does not report data.version: %q", cliRows)
	}
	r := c.run("schedule", schedule, map[string]string{"mode": "drift"}, 0)
	assertRowsIn(t, "the action's drift mode", r.File("summary"), cliRows)

	code, out = reconcileCLI(t, bin, c.f.Dir, "-o", "json")
	if code != 0 {
		t.Fatalf("reconcile: exit %d, want 0", code)
	}
	if v := liveVersion(t); v != "B" {
		t.Fatalf("reconcile did not restore the recorded revision B (head is C): version %q", v)
	}
	pr = reconcileJSON(t, out)
	cliRows = driftRowsOf(pr, false)
	if pr.Target.Commit != b || !pr.Drifted() || !containsLine(cliRows, "| ConfigMap/app-a/settings | `data.version` | `edited-by-hand` | `B` |") {
		t.Errorf("reconcile result: target %+v rows %q", pr.Target, cliRows)
	}
	editByHand(t)
	r = c.run("schedule", schedule, nil, 0)
	if v := liveVersion(t); v != "B" {
		t.Fatalf("the action's reconcile did not restore B: version %q", v)
	}
	assertRowsIn(t, "the action's reconcile", r.File("summary"), cliRows)

	code, out = reconcileCLI(t, bin, c.f.Dir, "--drift-only")
	if code != 0 || !strings.Contains(out, "target "+b[:12]) || !strings.Contains(out, "no drift") {
		t.Errorf("--drift-only after the reconcile: exit %d, want 0 and no drift:\n%s", code, out)
	}

	// The text output names the field, both values and the revert.
	editByHand(t)
	code, out = reconcileCLI(t, bin, c.f.Dir)
	if code != 0 || !strings.Contains(out, `drifted: ConfigMap/app-a/settings data.version: "edited-by-hand" in the cluster, "B" in Git`) || !strings.Contains(out, "reverted") {
		t.Errorf("reconcile text: exit %d\n%s", code, out)
	}

	// Another clone without B (here: another repository): that path
	// fails, and nothing else is deployed in B's place.
	editByHand(t)
	other := actiontest.NewFleet(t)
	other.Commit("unrelated")
	code, out = reconcileCLI(t, bin, other.Dir)
	if code != 1 || !strings.Contains(out, "commit "+b[:12]+" is not in the local repository") || !strings.Contains(out, "fetch-depth: 0") {
		t.Errorf("reconcile without the recorded commit: exit %d, want 1 and how to fetch it:\n%s", code, out)
	}
	if v := liveVersion(t); v != "edited-by-hand" {
		t.Errorf("something was deployed in place of the missing commit: version %q", v)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// assertRowsIn checks that the action reported every drift row the CLI
// did, identically, and as many.
func assertRowsIn(t *testing.T, who, summary string, rows []string) {
	t.Helper()
	if len(rows) == 0 {
		t.Fatalf("the CLI reported no drift to compare with")
	}
	for _, row := range rows {
		if !strings.Contains(summary, row) {
			t.Errorf("%s lacks the CLI's drift row %q:\n%s", who, row, summary)
		}
	}
	if n := strings.Count(summary, "| ConfigMap/app-a/settings | `"); n != len(rows) {
		t.Errorf("%s reports %d drift rows, the CLI %d:\n%s", who, n, len(rows), summary)
	}
}
