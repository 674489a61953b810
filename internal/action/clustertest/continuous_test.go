package clustertest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/github/githubtest"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
)

// continuousFleet runs the action against the local cluster for
// clusters/a of one repository, GITHUB_SHA being the checked-out head.
type continuousFleet struct {
	t          *testing.T
	f          *actiontest.Fleet
	srv        *githubtest.Server
	kubeconfig string
	head       string
}

func (c *continuousFleet) run(event string, payload map[string]any, inputs map[string]string, wantExit int) *actiontest.Runner {
	c.t.Helper()
	r := actiontest.NewRunner(c.t, c.srv, c.f.Dir, event, payload)
	r.Env["GITHUB_SHA"] = c.head
	r.Env["INPUT_KUBECONFIG"] = c.kubeconfig
	r.Env["INPUT_PATH"] = "clusters/a"
	for k, v := range inputs {
		r.Env["INPUT_"+strings.ToUpper(k)] = v
	}
	if out := r.Run(); out.ExitCode != wantExit {
		c.t.Fatalf("%s %v: exit %d, want %d\n%s", event, inputs, out.ExitCode, wantExit, r.Log.String())
	}
	actiontest.AssertNoSecrets(c.t, c.srv, r, actiontest.SecretValue, actiontest.Token)
	return r
}

// commit commits clusters/a's ConfigMap at version and checks it out.
func (c *continuousFleet) commit(version string) string {
	c.f.Write(map[string]string{"apps/a/config.yaml": actiontest.ConfigMap("a", version)})
	c.head = c.f.Commit("version " + version)
	return c.head
}

func (c *continuousFleet) push(before, after string) {
	c.t.Helper()
	c.run("push", map[string]any{"ref": "refs/heads/main", "before": before, "after": after}, nil, 0)
}

func liveVersion(t *testing.T) string {
	t.Helper()
	got, err := local.Kubectl(context.Background(), "get", "configmap", "settings", "-n", "app-a", "-o", "jsonpath={.data.version}")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// editByHand changes the version and the url, whose value in Git holds a
// secret substituted from a Secret: the drift report must not show it.
func editByHand(t *testing.T) {
	t.Helper()
	if _, err := local.Kubectl(context.Background(), "-n", "app-a", "patch", "configmap", "settings", "--type", "merge", "-p", `{"data":{"version":"edited-by-hand","url":"postgres://elsewhere"}}`); err != nil {
		t.Fatal(err)
	}
}

var schedule = map[string]any{"schedule": "*/30 * * * *"}

// A scheduled run reconciles to the revision the cluster path runs (its
// deploy record), not the branch head: deploy A, deploy B, edit by hand,
// move head to C; drift mode reports against B and changes nothing, the
// reconcile restores B's content, with its check run and a deployment on
// B, and a drift issue kept while it drifts, closed once clean. A rollback
// (workflow_dispatch, mode deploy, revision A) deploys A; reconcile-to:
// head deploys C.
func TestScheduleReconcilesRecordedRevision(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	c := &continuousFleet{t: t, f: actiontest.NewFleet(t), srv: srv, kubeconfig: kubeconfig}
	a := c.commit("A")
	c.push(github.ZeroSHA, a)
	b := c.commit("B")
	c.push(a, b)
	if deps := srv.Deployments(); len(deps) != 2 || deps[0].Ref != a || deps[1].Ref != b || deps[1].Environment != "clusters/a" ||
		deps[1].Description != "slipway deploy (push)" || !slices.Equal(states(deps[1]), []string{"in_progress", "success"}) {
		t.Errorf("deployments of the pushes: %+v", deps)
	}
	editByHand(t)
	head := c.commit("C")
	issues := map[string]string{"drift-issues": "true"}

	r := c.run("schedule", schedule, map[string]string{"mode": "drift", "drift-issues": "true"}, 0)
	if v := liveVersion(t); v != "edited-by-hand" {
		t.Fatalf("drift mode changed the cluster: version %q", v)
	}
	sum := r.File("summary")
	if !strings.Contains(sum, "recorded revision "+b[:12]) || !strings.Contains(sum, "ConfigMap/app-a/settings") {
		t.Errorf("drift mode does not compare with the recorded revision B:\n%s", sum)
	}
	if is := srv.Issues(); len(is) != 1 || is[0].State != "open" || !slices.Contains(is[0].Labels, "slipway-drift") ||
		!strings.Contains(is[0].Body, "`data.version`") || !strings.Contains(is[0].Body, "actions/runs/42") {
		t.Fatalf("drift issue after drift mode: %+v", is)
	}

	before := len(srv.Deployments())
	r = c.run("schedule", schedule, issues, 0)
	if v := liveVersion(t); v != "B" {
		t.Fatalf("the reconcile did not restore the recorded revision B: version %q\n%s", v, r.Log.String())
	}
	if sum := r.File("summary"); !strings.Contains(sum, "| ConfigMap/app-a/settings | `data.version` | `edited-by-hand` | `B` |") ||
		!strings.Contains(sum, "| Revision | "+b+" (recorded on the cluster as deployed") {
		t.Errorf("the reconcile does not say which field drifted:\n%s", sum)
	}
	if !checkOn(srv, "slipway / clusters/a", b) {
		t.Errorf("no check run on the recorded commit B: %+v", srv.CheckRuns())
	}
	deps := srv.Deployments()[before:]
	if len(deps) != 1 || deps[0].Ref != b || deps[0].Environment != "clusters/a" || !slices.Equal(states(deps[0]), []string{"in_progress", "success"}) ||
		deps[0].Statuses[0].LogURL != "https://github.example/acme/fleet/actions/runs/42" || deps[0].Description != "slipway scheduled reconcile" {
		t.Errorf("deployment of the reconcile: %+v", deps)
	}
	if is := srv.Issues(); len(is) != 1 || is[0].State != "open" || !strings.Contains(is[0].Body, "reverted") {
		t.Errorf("the drift issue is not updated (one, open, saying it was reverted): %+v", is)
	}

	c.run("schedule", schedule, issues, 0)
	if is := srv.Issues(); len(is) != 1 || is[0].State != "closed" || len(srv.Comments(is[0].Number)) != 1 {
		t.Errorf("a clean reconcile does not close the drift issue with a comment: %+v", is)
	}
	rec, err := deploy.ReadRecord(context.Background(), mustConnect(t, kubeconfig), "clusters/a")
	if err != nil || rec.Revision != b {
		t.Fatalf("record after reconciles: %+v, %v (want %s)", rec, err, b)
	}

	// Rollback: a person asks for A.
	before = len(srv.Deployments())
	c.run("workflow_dispatch", map[string]any{"inputs": map[string]any{}}, map[string]string{"mode": "deploy", "revision": a}, 0)
	if v := liveVersion(t); v != "A" {
		t.Fatalf("the rollback did not deploy A: version %q", v)
	}
	if deps := srv.Deployments()[before:]; len(deps) != 1 || deps[0].Ref != a || !strings.Contains(deps[0].Description, "rollback") {
		t.Errorf("deployment of the rollback: %+v", deps)
	}
	if rec, _ := deploy.ReadRecord(context.Background(), mustConnect(t, kubeconfig), "clusters/a"); rec.Revision != a {
		t.Errorf("record after the rollback: %+v", rec)
	}
	// A scheduled run keeps the rollback; reconcile-to: head deploys C.
	c.run("schedule", schedule, nil, 0)
	if v := liveVersion(t); v != "A" {
		t.Fatalf("a scheduled run undid the rollback: version %q", v)
	}
	before = len(srv.Deployments())
	c.run("schedule", schedule, map[string]string{"reconcile-to": "head", "deployments": "false"}, 0)
	if v := liveVersion(t); v != "C" || c.head != head {
		t.Fatalf("reconcile-to: head did not deploy C: version %q", v)
	}
	if n := len(srv.Deployments()) - before; n != 0 {
		t.Errorf("deployments: false still recorded %d deployment(s)", n)
	}
}

// A recorded commit the checkout lacks (a shallow clone, or another
// repository) fails the reconcile with how to fix it, and nothing else is
// deployed in its place.
func TestReconcileRecordedCommitMissing(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	first := &continuousFleet{t: t, f: actiontest.NewFleet(t), srv: srv, kubeconfig: kubeconfig}
	first.push(github.ZeroSHA, first.commit("first"))
	editByHand(t)

	other := &continuousFleet{t: t, f: actiontest.NewFleet(t), srv: srv, kubeconfig: kubeconfig}
	other.commit("other")
	before := len(srv.Deployments())
	r := other.run("schedule", schedule, nil, 1)
	if v := liveVersion(t); v != "edited-by-hand" {
		t.Fatalf("something else was deployed in place of the recorded commit: version %q", v)
	}
	if sum := r.File("summary"); !strings.Contains(sum, "fetch-depth: 0") || !strings.Contains(sum, first.head[:12]) {
		t.Errorf("the summary does not say the recorded commit is missing and how to fetch it:\n%s", sum)
	}
	if n := len(srv.Deployments()) - before; n != 0 {
		t.Errorf("%d deployment(s) recorded for a reconcile that deployed nothing", n)
	}
}

// Without `deployments: write` a deploy warns once and deploys anyway.
func TestDeploymentsForbiddenStillDeploys(t *testing.T) {
	kubeconfig, _ := clusterSetup(t)
	srv := githubtest.New(actiontest.Owner, actiontest.Repo)
	t.Cleanup(srv.Close)
	perms := githubtest.WriteAll
	perms.Deployments = false
	srv.AddToken(actiontest.Token, perms)
	c := &continuousFleet{t: t, f: actiontest.NewFleet(t), srv: srv, kubeconfig: kubeconfig}
	c.push(github.ZeroSHA, c.commit("forbidden"))
	if v := liveVersion(t); v != "forbidden" {
		t.Fatalf("not deployed: version %q", v)
	}
	posts := 0
	for _, req := range srv.Requests() {
		if strings.HasSuffix(req.Path, "/deployments") {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d deployment requests: want 1 (refused, then no more tries)", posts)
	}
}

func states(d githubtest.Deployment) []string {
	var out []string
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}

func checkOn(srv *githubtest.Server, name, sha string) bool {
	for _, cr := range srv.CheckRuns() {
		if cr.Name == name && cr.HeadSHA == sha {
			return true
		}
	}
	return false
}

func mustConnect(t *testing.T, kubeconfig string) *cluster.Cluster {
	t.Helper()
	c, err := connect(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// helloChart is a chart committed in the fleet: one ConfigMap named after
// the release.
var helloChart = map[string]string{
	"charts/hello/Chart.yaml":  "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
	"charts/hello/values.yaml": "message: default\n",
	"charts/hello/templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  message: {{ .Values.message | quote }}
`,
	"apps/a/hello.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hello
  namespace: app-a
spec:
  interval: 10m
  driftDetection:
    mode: enabled
  chart:
    spec:
      chart: ./charts/hello
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    message: from Git
`,
}

// A scheduled reconcile also reverts a hand edit of an object a HelmRelease
// installed (driftDetection enabled, as helm-controller) and reports it.
func TestScheduleRevertsHelmReleaseDrift(t *testing.T) {
	kubeconfig, srv := clusterSetup(t)
	c := &continuousFleet{t: t, f: actiontest.NewFleet(t), srv: srv, kubeconfig: kubeconfig}
	c.f.Write(helloChart)
	c.push(github.ZeroSHA, c.commit("helm"))
	message := func() string {
		got, err := local.Kubectl(context.Background(), "get", "configmap", "hello", "-n", "app-a", "-o", "jsonpath={.data.message}")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if m := message(); m != "from Git" {
		t.Fatalf("release not installed: message %q", m)
	}
	if _, err := local.Kubectl(context.Background(), "-n", "app-a", "patch", "configmap", "hello", "--type", "merge", "-p", `{"data":{"message":"edited-by-hand"}}`); err != nil {
		t.Fatal(err)
	}
	r := c.run("schedule", schedule, map[string]string{"drift-issues": "true"}, 0)
	if m := message(); m != "from Git" {
		t.Fatalf("the reconcile did not revert the release object: message %q\n%s", m, r.Log.String())
	}
	if sum := r.File("summary"); !strings.Contains(sum, "ConfigMap/app-a/hello (HelmRelease app-a/hello)") {
		t.Errorf("the summary does not report the release object's drift:\n%s", sum)
	}
	if is := srv.Issues(); len(is) != 1 || !strings.Contains(is[0].Body, "ConfigMap/app-a/hello") {
		t.Errorf("drift issue: %+v", is)
	}
}
