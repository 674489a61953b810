package helmrelease_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/slipwayhq/slipway/internal/helmrelease"
	"github.com/slipwayhq/slipway/internal/result"
)

// packageChart packages a chart of testdata/charts with the Helm SDK, as
// internal/helm leaves charts in its cache.
func packageChart(t *testing.T, name string) string {
	t.Helper()
	ch, err := loader.LoadDir(filepath.Join("testdata", "charts", name))
	if err != nil {
		t.Fatal(err)
	}
	path, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// newBuild is a rendered HelmRelease ns/name of the app chart, released as
// name in ns; edit adjusts the HelmRelease spec.
func newBuild(t *testing.T, archive, ns, name string, values map[string]any, edit func(*helmv2.HelmRelease)) *result.ReleaseBuild {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	hr.Name, hr.Namespace = name, ns
	if edit != nil {
		edit(hr)
	}
	return &result.ReleaseBuild{
		Ref:              result.KustomizationRef{Namespace: ns, Name: name},
		Origin:           result.Origin{File: "clusters/test/" + name + ".yaml", Line: 1},
		ReleaseName:      hr.GetReleaseName(),
		Namespace:        hr.GetReleaseNamespace(),
		StorageNamespace: hr.GetStorageNamespace(),
		Chart:            result.ChartRef{Name: "app", Version: "0.1.0", Source: "testdata/charts/app"},
		Spec:             hr,
		ChartArchive:     archive,
		Values:           values,
	}
}

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// newNamespace creates a namespace for one test and removes it afterwards.
func newNamespace(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clientset.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// newReleaser returns a Releaser on the test cluster whose progress lines
// go to the test log.
func newReleaser(t *testing.T, wait bool) (*helmrelease.Releaser, *logLines) {
	t.Helper()
	lines := &logLines{t: t}
	r, err := helmrelease.New(restConfig, helmrelease.Options{Timeout: time.Minute, Wait: wait, Log: lines.log})
	if err != nil {
		t.Fatal(err)
	}
	return r, lines
}

type logLines struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (l *logLines) log(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	l.t.Log(s)
}

func (l *logLines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// helmConfig is an action configuration built the way the helm CLI builds
// it (kubeconfig file, Secret driver), independent of the package under
// test: what `helm list` and `helm history` would see.
func helmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	flags.Namespace = &ns
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// history is `helm history`: every stored revision, oldest first.
func history(t *testing.T, ns, name string) []*release.Release {
	t.Helper()
	rels, err := action.NewHistory(helmConfig(t, ns)).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("helm history %s: %v", name, err)
	}
	var out []*release.Release
	for _, r := range rels {
		rel, ok := r.(*release.Release)
		if !ok {
			t.Fatalf("release type %T", r)
		}
		out = append(out, rel)
	}
	// History answers in storage order; sort by revision.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Version < out[j-1].Version; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// statuses renders a history as "1:superseded 2:failed 3:deployed".
func statuses(h []*release.Release) string {
	parts := make([]string, 0, len(h))
	for _, r := range h {
		parts = append(parts, fmt.Sprintf("%d:%s", r.Version, r.Info.Status))
	}
	return strings.Join(parts, " ")
}

// list is `helm list -n ns` (deployed and failed releases).
func list(t *testing.T, ns string) []string {
	t.Helper()
	l := action.NewList(helmConfig(t, ns))
	l.All = true
	rels, err := l.Run()
	if err != nil {
		t.Fatalf("helm list: %v", err)
	}
	var names []string
	for _, r := range rels {
		rel := r.(*release.Release)
		names = append(names, fmt.Sprintf("%s:%d:%s", rel.Name, rel.Version, rel.Info.Status))
	}
	return names
}

func wantAction(t *testing.T, rd *result.ReleaseDeploy, want result.ReleaseAction, revision int) {
	t.Helper()
	if rd.Action != want || rd.Revision != revision {
		t.Fatalf("got %s revision %d (%s), want %s revision %d", rd.Action, rd.Revision, rd.Message, want, revision)
	}
}

// restConfigForOffline points at a loopback port nothing listens on: for
// tests that must not reach a cluster at all.
var restConfigForOffline = rest.Config{Host: "https://127.0.0.1:1", Timeout: time.Second}
