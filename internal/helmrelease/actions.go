package helmrelease

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/postrenderer"
	release "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/slipwayhq/slipway/internal/helm"
)

// The Helm actions, configured from the HelmRelease as helm-controller
// configures them (internal/action of helm-controller). Server-side apply
// forces conflicts, as helm-controller does: the release owns its fields.

func (run *releaseRun) newInstall(replace bool) (*action.Install, error) {
	spec := run.hr.GetInstall()
	in := action.NewInstall(run.cfg)
	in.ReleaseName = run.rb.ReleaseName
	in.Namespace = run.rb.Namespace
	in.CreateNamespace = spec.CreateNamespace
	in.DisableHooks = spec.DisableHooks
	in.Replace = spec.Replace || replace
	in.DisableOpenAPIValidation = spec.DisableOpenAPIValidation
	in.SkipSchemaValidation = spec.DisableSchemaValidation
	in.TakeOwnership = !spec.DisableTakeOwnership
	in.ServerSideApply = spec.ServerSideApply == nil || *spec.ServerSideApply
	in.ForceConflicts = true
	in.WaitStrategy = run.r.waitStrategy(spec.DisableWait)
	in.WaitForJobs = in.WaitStrategy != kube.HookOnlyStrategy && !spec.DisableWaitForJobs
	in.WaitOptions = waitOptions(run.ctx)
	in.Timeout = run.t.install
	in.Labels = run.labels
	in.PostRenderer, in.PostRenderStrategy = run.postRenderer()
	switch policy := installCRDPolicy(spec); policy {
	case helmv2.Skip:
		in.SkipCRDs = true
	case helmv2.Create:
		// Helm itself creates the chart's CRDs that do not exist yet.
	case helmv2.CreateReplace:
		in.SkipCRDs = true
	default:
		return nil, fmt.Errorf("unknown install.crds policy %q", policy)
	}
	return in, nil
}

func (run *releaseRun) install(replace bool) (*release.Release, error) {
	in, err := run.newInstall(replace)
	if err != nil {
		return nil, err
	}
	if installCRDPolicy(run.hr.GetInstall()) == helmv2.CreateReplace {
		if err := run.applyCRDs(true); err != nil {
			return nil, err
		}
	}
	run.log("installing %s as release %s in %s", run.chartString(), run.rb.ReleaseName, run.rb.Namespace)
	r, err := in.RunWithContext(run.ctx, run.chart, copyValues(run.rb.Values))
	rel, cerr := toV1(r)
	if err != nil {
		return rel, err
	}
	return rel, cerr
}

func installCRDPolicy(spec helmv2.Install) helmv2.CRDsPolicy {
	switch {
	case spec.CRDs != "":
		return spec.CRDs
	case spec.SkipCRDs:
		return helmv2.Skip
	default:
		return helmv2.Create
	}
}

func ssaMode(m helmv2.ServerSideApplyMode) string {
	switch m {
	case helmv2.ServerSideApplyEnabled:
		return "true"
	case helmv2.ServerSideApplyDisabled:
		return "false"
	default:
		return "auto"
	}
}

func (run *releaseRun) newUpgrade() *action.Upgrade {
	spec := run.hr.GetUpgrade()
	up := action.NewUpgrade(run.cfg)
	up.Namespace = run.rb.Namespace
	up.DisableHooks = spec.DisableHooks
	up.DisableOpenAPIValidation = spec.DisableOpenAPIValidation
	up.SkipSchemaValidation = spec.DisableSchemaValidation
	up.ForceReplace = spec.Force
	up.ForceConflicts = true
	up.ServerSideApply = ssaMode(spec.ServerSideApply)
	// helm-controller: the values are the HelmRelease's, unless
	// preserveValues merges them over the last release's.
	up.ReuseValues = spec.PreserveValues
	up.ResetValues = !spec.PreserveValues
	up.CleanupOnFail = spec.CleanupOnFail
	up.MaxHistory = run.hr.GetMaxHistory()
	up.TakeOwnership = !spec.DisableTakeOwnership
	up.WaitStrategy = run.r.waitStrategy(spec.DisableWait)
	up.WaitForJobs = up.WaitStrategy != kube.HookOnlyStrategy && !spec.DisableWaitForJobs
	up.WaitOptions = waitOptions(run.ctx)
	up.Timeout = run.t.upgrade
	up.Labels = run.labels
	up.PostRenderer, up.PostRenderStrategy = run.postRenderer()
	return up
}

// postRenderer is the chain internal/helm rendered the release with
// (spec.postRenderers, commonMetadata, the origin labels), so that what is
// installed is what was rendered and validated.
func (run *releaseRun) postRenderer() (postrenderer.PostRenderer, action.PostRenderStrategy) {
	strategy := action.PostRenderStrategyCombined
	if s := run.hr.Spec.PostRenderStrategy; s != "" {
		strategy = action.PostRenderStrategy(s)
	}
	return helm.PostRenderer(run.hr, nil), strategy
}

func (run *releaseRun) upgrade() (*release.Release, error) {
	// Helm never touches CRDs on upgrade; helm-controller applies them
	// itself per upgrade.crds (default Skip).
	switch policy := run.hr.GetUpgrade().CRDs; policy {
	case "", helmv2.Skip:
	case helmv2.Create, helmv2.CreateReplace:
		if err := run.applyCRDs(policy == helmv2.CreateReplace); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown upgrade.crds policy %q", policy)
	}
	run.log("upgrading release %s to %s", run.rb.ReleaseName, run.chartString())
	r, err := run.newUpgrade().RunWithContext(run.ctx, run.rb.ReleaseName, run.chart, copyValues(run.rb.Values))
	rel, cerr := toV1(r)
	if err != nil {
		return rel, err
	}
	return rel, cerr
}

func (run *releaseRun) rollback(version int) error {
	spec := run.hr.GetRollback()
	rb := action.NewRollback(run.cfg)
	rb.Version = version
	rb.DisableHooks = spec.DisableHooks
	rb.ForceReplace = spec.Force
	rb.ForceConflicts = true
	rb.ServerSideApply = ssaMode(spec.ServerSideApply)
	rb.CleanupOnFail = spec.CleanupOnFail
	rb.MaxHistory = run.hr.GetMaxHistory()
	rb.WaitStrategy = run.r.waitStrategy(spec.DisableWait)
	rb.WaitForJobs = rb.WaitStrategy != kube.HookOnlyStrategy && !spec.DisableWaitForJobs
	rb.WaitOptions = waitOptions(run.ctx)
	rb.Timeout = run.t.rollback
	run.log("rolling back release %s to revision %d", run.rb.ReleaseName, version)
	return rb.Run(run.rb.ReleaseName)
}

// uninstall removes the release with the given options; a release that is
// not there is not an error (an install that failed before storing it).
func (run *releaseRun) uninstall(spec helmv2.Uninstall) error {
	run.log("uninstalling release %s", run.rb.ReleaseName)
	return uninstall(run.ctx, run.cfg, run.r, run.rb.ReleaseName, spec, run.t.uninstall)
}

// applyCRDs creates the chart's CRDs that do not exist and, with replace,
// updates those that do (helm-controller's Create and CreateReplace).
func (run *releaseRun) applyCRDs(replace bool) error {
	crds := run.chart.CRDObjects()
	if len(crds) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, c := range crds {
		buf.WriteString("\n---\n")
		buf.Write(c.File.Data)
	}
	list, err := run.cfg.KubeClient.Build(&buf, false)
	if err != nil {
		return fmt.Errorf("reading the chart's CRDs: %w", err)
	}
	var apply kube.ResourceList
	for _, info := range list {
		if !replace {
			if err := info.Get(); err == nil {
				continue
			} else if !apierrors.IsNotFound(err) {
				return fmt.Errorf("reading CRD %s: %w", info.Name, err)
			}
		}
		apply = append(apply, info)
	}
	if len(apply) == 0 {
		return nil
	}
	if _, err := run.cfg.KubeClient.Create(apply, kube.ClientCreateOptionServerSideApply(true, true)); err != nil {
		return fmt.Errorf("applying the chart's CRDs: %w", err)
	}
	waiter, err := run.cfg.KubeClient.GetWaiter(kube.StatusWatcherStrategy)
	if err != nil {
		return err
	}
	if err := waiter.Wait(apply, run.t.upgrade); err != nil {
		return fmt.Errorf("waiting for the chart's CRDs: %w", err)
	}
	return nil
}

// outOfSync says why the deployed release last differs from what rb would
// release, "" when it does not: chart, values (by digest), then the
// manifest and hooks Helm renders now (server-side dry-run).
func (run *releaseRun) outOfSync(last *release.Release) (string, error) {
	if last.Chart == nil || last.Chart.Metadata == nil {
		return "no chart in the stored release", nil
	}
	if last.Chart.Name() != run.chart.Name() || last.Chart.Metadata.Version != run.chart.Metadata.Version {
		return fmt.Sprintf("chart %s@%s, want %s", last.Chart.Name(), last.Chart.Metadata.Version, run.chartString()), nil
	}
	if last.Labels[LabelConfigDigest] != run.digest {
		return "chart content or values changed", nil
	}
	up := run.newUpgrade()
	up.DryRunStrategy = action.DryRunServer
	r, err := up.RunWithContext(run.ctx, run.rb.ReleaseName, run.chart, copyValues(run.rb.Values))
	if err != nil {
		// Let the real upgrade say what is wrong.
		return "dry-run upgrade failed", nil
	}
	next, err := toV1(r)
	if err != nil || next == nil {
		return "dry-run upgrade returned no release", err
	}
	if next.Manifest != last.Manifest {
		return "rendered manifest changed", nil
	}
	if hooksDigest(next.Hooks) != hooksDigest(last.Hooks) {
		return "rendered hooks changed", nil
	}
	return "", nil
}

func hooksDigest(hooks []*release.Hook) string {
	parts := make([]string, 0, len(hooks))
	for _, h := range hooks {
		parts = append(parts, h.Path+"\x00"+h.Manifest)
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x01")
}

// copyValues deep-copies values: Helm coalesces into the map it is given,
// and the build's values must stay as rendered.
func copyValues(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = copyValue(x)
	}
	return out
}

func copyValue(x any) any {
	switch t := x.(type) {
	case map[string]any:
		return copyValues(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	default:
		return x
	}
}
