package helmrelease_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/slipwayhq/slipway/internal/helmrelease"
	"github.com/slipwayhq/slipway/internal/result"
)

// TestReleaseLifecycle: install, unchanged (no new revision), upgrade,
// drift reported then corrected, uninstall — checked the way the helm CLI
// would see it.
func TestReleaseLifecycle(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t, "hr-lifecycle")
	archive := packageChart(t, "app")
	r, _ := newReleaser(t, true)

	rb := newBuild(t, archive, ns, "web", map[string]any{"message": "one", "secretish": "do-not-print-me"}, nil)

	rd := r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseInstalled, 1)
	if rd.ReleaseName != "web" || rd.Namespace != ns || rd.Duration <= 0 {
		t.Errorf("result fields: %+v", rd)
	}
	dep, err := clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Wait was on: the install returned only once the Deployment was ready.
	if dep.Status.ReadyReplicas != 1 {
		t.Errorf("deployment ready replicas = %d, want 1", dep.Status.ReadyReplicas)
	}
	if dep.Labels["app.kubernetes.io/managed-by"] != "Helm" || dep.Annotations["meta.helm.sh/release-name"] != "web" {
		t.Errorf("deployment lacks Helm ownership metadata: %v %v", dep.Labels, dep.Annotations)
	}
	if got := list(t, ns); len(got) != 1 || got[0] != "web:1:deployed" {
		t.Errorf("helm list = %v", got)
	}

	// Same chart and values: no new revision.
	for i := 0; i < 2; i++ {
		rd = r.Reconcile(ctx, rb)
		wantAction(t, rd, result.ReleaseUnchanged, 1)
		if len(rd.Drift) != 0 {
			t.Errorf("unexpected drift right after install: %v", rd.Drift)
		}
	}
	if h := history(t, ns, "web"); statuses(h) != "1:deployed" {
		t.Errorf("history after unchanged reconciles = %q", statuses(h))
	}

	// A value changes: upgrade to revision 2.
	rb = newBuild(t, archive, ns, "web", map[string]any{"message": "two", "secretish": "do-not-print-me"}, nil)
	rd = r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseUpgraded, 2)
	cm, err := clientset.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["message"] != "two" {
		t.Errorf("configmap message = %q after upgrade", cm.Data["message"])
	}
	if h := history(t, ns, "web"); statuses(h) != "1:superseded 2:deployed" {
		t.Errorf("history after upgrade = %q", statuses(h))
	}
	if strings.Contains(rd.Message, "do-not-print-me") {
		t.Errorf("a value leaked into the message: %s", rd.Message)
	}

	// Someone edits the ConfigMap by hand: reported, not corrected.
	patch := []byte(`{"data":{"message":"edited"}}`)
	if _, err := clientset.CoreV1().ConfigMaps(ns).Patch(ctx, "web-config", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	rd = r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseUnchanged, 2)
	want := result.ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "web-config"}
	if len(rd.Drift) != 1 || rd.Drift[0] != want {
		t.Fatalf("drift = %v, want [%v] (%s)", rd.Drift, want, rd.Message)
	}
	cm, _ = clientset.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	if cm.Data["message"] != "edited" {
		t.Errorf("drift was corrected without driftDetection.mode enabled")
	}

	// driftDetection.mode: enabled corrects it, still without a new revision.
	rb = newBuild(t, archive, ns, "web", map[string]any{"message": "two", "secretish": "do-not-print-me"}, func(hr *helmv2.HelmRelease) {
		hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}
	})
	rd = r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseUnchanged, 2)
	if len(rd.Drift) != 1 || !strings.Contains(rd.Message, "corrected") {
		t.Errorf("drift = %v, message %q: want one corrected object", rd.Drift, rd.Message)
	}
	cm, _ = clientset.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	if cm.Data["message"] != "two" {
		t.Errorf("configmap message = %q after drift correction, want two", cm.Data["message"])
	}
	rd = r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseUnchanged, 2)
	if len(rd.Drift) != 0 {
		t.Errorf("drift after correction: %v", rd.Drift)
	}

	// Uninstall: release and objects gone.
	rd = r.Uninstall(ctx, rb.Ref, "web", ns)
	if rd.Action != result.ReleaseUninstalled {
		t.Fatalf("uninstall: %s (%s)", rd.Action, rd.Message)
	}
	if h := history(t, ns, "web"); len(h) != 0 {
		t.Errorf("history after uninstall = %q", statuses(h))
	}
	if got := list(t, ns); len(got) != 0 {
		t.Errorf("helm list after uninstall = %v", got)
	}
	if _, err := clientset.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("configmap after uninstall: %v", err)
	}
	rd = r.Uninstall(ctx, rb.Ref, "web", ns)
	if rd.Action != result.ReleaseUnchanged {
		t.Errorf("second uninstall: %s (%s)", rd.Action, rd.Message)
	}
}

// TestFailedUpgradeRollsBack: an upgrade whose Deployment never becomes
// ready times out and is rolled back, leaving the revisions helm-controller
// leaves (deployed, failed, rolled back = 3), then a retried upgrade.
func TestFailedUpgradeRollsBack(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t, "hr-rollback")
	archive := packageChart(t, "app")
	r, _ := newReleaser(t, true)

	rd := r.Reconcile(ctx, newBuild(t, archive, ns, "api", map[string]any{"message": "ok"}, nil))
	wantAction(t, rd, result.ReleaseInstalled, 1)

	remediateLast := true
	strategy := helmv2.RollbackRemediationStrategy
	broken := newBuild(t, archive, ns, "api", map[string]any{"message": "broken", "unschedulable": true}, func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade = &helmv2.Upgrade{
			Timeout: duration(4 * time.Second),
			Remediation: &helmv2.UpgradeRemediation{
				Retries:              0,
				RemediateLastFailure: &remediateLast,
				Strategy:             &strategy,
			},
		}
	})
	rd = r.Reconcile(ctx, broken)
	wantAction(t, rd, result.ReleaseRolledBack, 3)
	if !strings.Contains(rd.Message, "rolled back to revision 1") || !strings.Contains(rd.Message, "retries exhausted after 1 attempt") {
		t.Errorf("message = %q", rd.Message)
	}
	if got := statuses(history(t, ns, "api")); got != "1:superseded 2:failed 3:deployed" {
		t.Errorf("history = %q", got)
	}
	dep, err := clientset.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dep.Spec.Template.Spec.NodeSelector) != 0 {
		t.Errorf("rollback left the broken node selector: %v", dep.Spec.Template.Spec.NodeSelector)
	}

	// With retries: 1 the upgrade is tried twice, rolled back after each
	// failure (remediateLastFailure defaults to true when retries > 0).
	retried := newBuild(t, archive, ns, "api", map[string]any{"message": "broken", "unschedulable": true}, func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade = &helmv2.Upgrade{
			Timeout:     duration(4 * time.Second),
			Remediation: &helmv2.UpgradeRemediation{Retries: 1},
		}
		max := 10
		hr.Spec.MaxHistory = &max
	})
	rd = r.Reconcile(ctx, retried)
	wantAction(t, rd, result.ReleaseRolledBack, 7)
	if !strings.Contains(rd.Message, "after 2 attempt") {
		t.Errorf("message = %q", rd.Message)
	}
	if got := statuses(history(t, ns, "api")); got != "1:superseded 2:failed 3:superseded 4:failed 5:superseded 6:failed 7:deployed" {
		t.Errorf("history = %q", got)
	}
}

// TestFailedInstallRetries: an install that never becomes ready is
// uninstalled and retried; the last failure is reported with its reason
// and, as helm-controller does by default, left in place; the next run
// with a fixed chart recovers it with an upgrade.
func TestFailedInstallRetries(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t, "hr-install")
	archive := packageChart(t, "app")
	r, lines := newReleaser(t, true)

	rb := newBuild(t, archive, ns, "worker", map[string]any{"unschedulable": true}, func(hr *helmv2.HelmRelease) {
		hr.Spec.Install = &helmv2.Install{
			Timeout:     duration(3 * time.Second),
			Remediation: &helmv2.InstallRemediation{Retries: 1},
		}
	})
	rd := r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseFailed, 1)
	if !strings.Contains(rd.Message, "retries exhausted after 2 attempt(s)") || !strings.Contains(rd.Message, "installing app@0.1.0") {
		t.Errorf("message = %q", rd.Message)
	}
	if n := strings.Count(lines.all(), "installing app@0.1.0 as release worker"); n != 2 {
		t.Errorf("%d install attempts, want 2:\n%s", n, lines.all())
	}
	if n := strings.Count(lines.all(), "uninstalling release worker"); n != 1 {
		t.Errorf("%d uninstalls between attempts, want 1:\n%s", n, lines.all())
	}
	if got := statuses(history(t, ns, "worker")); got != "1:failed" {
		t.Errorf("history = %q", got)
	}

	// The next push fixes the values: the failed release is upgraded.
	rb = newBuild(t, archive, ns, "worker", map[string]any{"unschedulable": false}, nil)
	rd = r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseUpgraded, 2)
	// Helm marks the revision an upgrade replaces superseded, failed or not.
	if got := statuses(history(t, ns, "worker")); got != "1:superseded 2:deployed" {
		t.Errorf("history = %q", got)
	}
}

// TestPendingReleaseRecovered: a release left pending by a run that died is
// unlocked (marked failed) and upgraded instead of blocking every run.
func TestPendingReleaseRecovered(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t, "hr-pending")
	archive := packageChart(t, "app")
	r, _ := newReleaser(t, false)

	rb := newBuild(t, archive, ns, "jobs", map[string]any{"message": "a"}, nil)
	wantAction(t, r.Reconcile(ctx, rb), result.ReleaseInstalled, 1)

	// What an interrupted `helm upgrade` leaves behind.
	cfg := helmConfig(t, ns)
	last := history(t, ns, "jobs")[0]
	last.SetStatus(rcommon.StatusPendingUpgrade, "interrupted")
	if err := cfg.Releases.Update(last); err != nil {
		t.Fatal(err)
	}

	rd := r.Reconcile(ctx, rb)
	wantAction(t, rd, result.ReleaseUpgraded, 2)
	if got := statuses(history(t, ns, "jobs")); got != "1:superseded 2:deployed" {
		t.Errorf("history = %q", got)
	}
}

// TestDryRun says what would happen and changes nothing.
func TestDryRun(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t, "hr-dryrun")
	archive := packageChart(t, "app")
	r, _ := newReleaser(t, false)

	rb := newBuild(t, archive, ns, "dry", map[string]any{"message": "a"}, nil)
	rd := r.DryRun(ctx, rb)
	wantAction(t, rd, result.ReleaseInstalled, 0)
	if h := history(t, ns, "dry"); len(h) != 0 {
		t.Fatalf("dry run stored a release: %q", statuses(h))
	}
	if _, err := clientset.CoreV1().ConfigMaps(ns).Get(ctx, "dry-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry run created objects: %v", err)
	}

	wantAction(t, r.Reconcile(ctx, rb), result.ReleaseInstalled, 1)
	wantAction(t, r.DryRun(ctx, rb), result.ReleaseUnchanged, 1)

	rb = newBuild(t, archive, ns, "dry", map[string]any{"message": "b"}, nil)
	rd = r.DryRun(ctx, rb)
	wantAction(t, rd, result.ReleaseUpgraded, 1)
	if got := statuses(history(t, ns, "dry")); got != "1:deployed" {
		t.Errorf("history after dry-run upgrade = %q", got)
	}
	cm, err := clientset.CoreV1().ConfigMaps(ns).Get(ctx, "dry-config", metav1.GetOptions{})
	if err != nil || cm.Data["message"] != "a" {
		t.Errorf("dry-run upgrade changed the configmap: %v %v", cm.Data, err)
	}

	// A template error is a failure of the dry run.
	rb = newBuild(t, archive, ns, "dry", map[string]any{"failRender": true}, nil)
	if rd := r.DryRun(ctx, rb); rd.Action != result.ReleaseFailed || !strings.Contains(rd.Message, "failRender is set") {
		t.Errorf("dry run of a chart that fails to render: %s (%s)", rd.Action, rd.Message)
	}
}

// TestNothingToRun: suspended and unrendered HelmReleases touch nothing.
func TestNothingToRun(t *testing.T) {
	t.Parallel()
	r, err := helmrelease.New(&restConfigForOffline, helmrelease.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rb := newBuild(t, "", "offline", "susp", nil, func(hr *helmv2.HelmRelease) { hr.Spec.Suspend = true })
	if rd := r.Reconcile(ctx, rb); rd.Action != result.ReleaseSkipped {
		t.Errorf("suspended: %s (%s)", rd.Action, rd.Message)
	}
	rb = newBuild(t, "", "offline", "broken", nil, nil)
	rb.Err = errors.New("chart app@9.9.9 not found")
	rd := r.Reconcile(ctx, rb)
	if rd.Action != result.ReleaseFailed || !strings.Contains(rd.Message, "not found") || !strings.Contains(rd.Message, "offline/broken") {
		t.Errorf("unrendered: %s (%s)", rd.Action, rd.Message)
	}
	rb = newBuild(t, "", "offline", "nochart", nil, nil)
	rd = r.Reconcile(ctx, rb)
	if rd.Action != result.ReleaseFailed || !strings.Contains(rd.Message, helmrelease.ErrNoChart.Error()) {
		t.Errorf("no chart: %s (%s)", rd.Action, rd.Message)
	}
}
