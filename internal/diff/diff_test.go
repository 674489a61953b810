package diff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/testutil"
)

// Secret values the scenarios commit in plain Secrets; no output may
// contain them.
var plainSecrets = []string{"tok-base-4711-secret", "tok-head-0815-secret", "pw-head-9999-secret"}

func (g *gitRepo) edit(rel, old, new string) map[string]string {
	g.t.Helper()
	data, err := os.ReadFile(filepath.Join(g.dir, filepath.FromSlash(rel)))
	if err != nil {
		g.t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		g.t.Fatalf("%s does not contain %q", rel, old)
	}
	return map[string]string{rel: strings.Replace(string(data), old, new, 1)}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

const extraKustomization = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: extra
  namespace: flux-system
spec:
  interval: 10m
  path: ./extra/staging
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`

const movingConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: moving
  namespace: extra
data:
  k: v
`

func tokenSecret(data string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: extra\ntype: Opaque\nstringData:\n" + data
}

// scenario is a pair of commits and what plan must say about them.
type scenario struct {
	name       string
	base, head string
	plan       []string
}

// fleetHistory commits the scenarios' variations of the example fleet.
func fleetHistory(t *testing.T) (*gitRepo, []scenario) {
	g := newFleetRepo(t)
	c0 := g.commit("base", nil)
	c1 := g.commit("value", g.edit("apps/base/redis/deployment.yaml", "replicas: 1", "replicas: 3"))
	c2 := g.commit("readme", g.edit("README.md", "\n", "\nA line that deploys nothing.\n"))
	c3 := g.commit("add-ks", map[string]string{
		"clusters/staging/extra.yaml":  extraKustomization,
		"extra/staging/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n",
		"extra/staging/settings.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: extra\ndata:\n  a: \"1\"\n",
		"extra/staging/moving.yaml":    movingConfigMap,
	})
	c4 := g.commit("secret-add", map[string]string{"extra/staging/token.yaml": tokenSecret("  token: tok-base-4711-secret\n")})
	c5 := g.commit("secret-change", map[string]string{"extra/staging/token.yaml": tokenSecret("  token: tok-head-0815-secret\n  password: pw-head-9999-secret\n")})
	c6 := g.commit("move", merge(
		map[string]string{"extra/staging/moving.yaml": "", "apps/staging/moving.yaml": movingConfigMap},
		g.edit("apps/staging/kustomization.yaml", "  - redis-seed.yaml\n", "  - redis-seed.yaml\n  - moving.yaml\n"),
	))
	c7 := g.commit("new-cluster", map[string]string{"clusters/dev/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n"})
	c8 := g.commit("remove-ks", map[string]string{
		"clusters/staging/extra.yaml": "", "extra/staging/namespace.yaml": "", "extra/staging/settings.yaml": "", "extra/staging/token.yaml": "",
	})
	staging := []string{"clusters/staging"}
	return g, []scenario{
		{"value", c0, c1, []string{"clusters/production", "clusters/staging"}},
		{"readme", c1, c2, []string{}},
		{"add-ks", c2, c3, staging},
		{"secret-add", c3, c4, staging},
		{"secret-change", c4, c5, staging},
		{"move", c5, c6, staging},
		{"new-cluster", c6, c7, []string{"clusters/dev"}},
		{"remove-ks", c7, c8, staging},
	}
}

func runOptions(t *testing.T, dir, base, head string) diff.RunOptions {
	key := filepath.Join(testutil.RepoRoot(t), "testdata", "keys", "age.agekey")
	dec, err := build.NewDecryptorFromFile(key)
	if err != nil {
		t.Fatal(err)
	}
	return diff.RunOptions{RepoDir: dir, Base: base, Head: head,
		BuildOptions: func(repo *source.Repository) build.Options {
			o := build.DefaultOptions(repo)
			o.Decryptor = dec
			return o
		}}
}

func render(t *testing.T, res *diff.Result) (text, markdown, js string) {
	var a, b, c bytes.Buffer
	if err := report.DiffText(&a, res, report.DiffTextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffMarkdown(&b, res, report.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffJSON(&c, res); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String(), c.String()
}

// TestFleetScenarios runs every scenario full and incremental: golden
// text diffs, no secret value in any format, incremental == full, and
// plan == "the build output differs".
func TestFleetScenarios(t *testing.T) {
	g, scenarios := fleetHistory(t)
	ctx := context.Background()
	// Every secret value the fleet's builds see (decrypted SOPS data and
	// substituted values), plus the plain ones the scenarios commit.
	builds, err := testutil.Build(t, g.dir, testutil.BuildOptions{AgeKeyFile: filepath.Join(testutil.RepoRoot(t), "testdata", "keys", "age.agekey")})
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string(nil), plainSecrets...)
	for _, cb := range builds {
		for _, v := range cb.Sensitive {
			if len(strings.TrimSpace(v)) >= 4 {
				secrets = append(secrets, strings.TrimSpace(v))
			}
		}
	}
	if len(secrets) <= len(plainSecrets) {
		t.Fatal("the fleet build saw no secret values: the SOPS Secrets were not decrypted")
	}
	reusedSomewhere := false
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			full, _, err := diff.Run(ctx, withFull(runOptions(t, g.dir, sc.base, sc.head)))
			if err != nil {
				t.Fatal(err)
			}
			inc, stats, err := diff.Run(ctx, runOptions(t, g.dir, sc.base, sc.head))
			if err != nil {
				t.Fatal(err)
			}
			if stats.Reused > 0 {
				reusedSomewhere = true
			}
			text, md, js := render(t, inc)
			ftext, fmd, fjs := render(t, full)
			if text != ftext || md != fmd || js != fjs {
				t.Errorf("incremental diff differs from the full one\n--- full\n%s\n--- incremental\n%s", ftext, text)
			}
			testutil.Golden(t, filepath.Join("testdata", sc.name+".txt"), text)
			for format, out := range map[string]string{"text": text, "markdown": md, "json": js} {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("-o %s shows a secret value (%d chars)", format, len(s))
					}
				}
			}
			if inc.HasErrors() {
				t.Errorf("build errors:\n%s", text)
			}
			plan, err := diff.RunPlan(ctx, runOptions(t, g.dir, sc.base, sc.head))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plan.Paths, sc.plan) {
				t.Errorf("plan = %q, want %q", plan.Paths, sc.plan)
			}
			if !reflect.DeepEqual(plan.Paths, full.ChangedPaths()) {
				t.Errorf("plan = %q, but the full diff changes %q", plan.Paths, full.ChangedPaths())
			}
		})
	}
	if !reusedSomewhere {
		t.Error("no scenario reused a base build: the incremental path was never taken")
	}
}

func withFull(o diff.RunOptions) diff.RunOptions {
	o.Full = true
	return o
}

// TestSecretChangeSaysWhichKeys checks the key-level report of a Secret
// whose values changed, through the model rather than the text.
func TestSecretChangeSaysWhichKeys(t *testing.T) {
	g := newFleetRepo(t)
	g.commit("base", map[string]string{"clusters/staging/extra.yaml": extraKustomization,
		"extra/staging/token.yaml": tokenSecret("  token: tok-base-4711-secret\n  same: unchanged-value\n  gone: old-value\n")})
	base := "HEAD"
	// Uncommitted: the head is the worktree.
	g.write(map[string]string{"extra/staging/token.yaml": tokenSecret("  token: tok-head-0815-secret\n  same: unchanged-value\n  password: pw-head-9999-secret\n")})
	res, _, err := diff.Run(context.Background(), runOptions(t, g.dir, base, ""))
	if err != nil {
		t.Fatal(err)
	}
	var found *diff.ObjectDiff
	for _, cd := range res.Clusters {
		for _, kd := range cd.Kustomizations {
			for _, od := range kd.Objects {
				if od.ID.Kind == "Secret" && od.ID.Name == "token" {
					found = od
				}
			}
		}
	}
	if found == nil {
		t.Fatalf("the Secret change is missing:\n%+v", res)
	}
	want := &diff.SecretKeys{Added: []string{"password"}, Removed: []string{"gone"}, Changed: []string{"token"}}
	if !reflect.DeepEqual(found.SecretKeys, want) {
		t.Errorf("secret keys = %+v, want %+v", found.SecretKeys, want)
	}
	data, _ := json.Marshal(res)
	for _, s := range append(plainSecrets, "unchanged-value", "old-value") {
		if strings.Contains(string(data)+found.Diff, s) {
			t.Errorf("a secret value is in the result")
		}
	}
}

// TestMarkdownTruncation cuts a diff with deletions to a small limit.
func TestMarkdownTruncation(t *testing.T) {
	g, scenarios := fleetHistory(t)
	var sc scenario
	for _, s := range scenarios {
		if s.name == "add-ks" {
			sc = s
		}
	}
	// From the commit that added the extra Kustomization to one that no
	// longer has it: its objects are deleted, and changes elsewhere in the
	// same run compete for space.
	head := g.commit("value-again", g.edit("apps/base/redis/deployment.yaml", "replicas: 3", "replicas: 5"))
	res, _, err := diff.Run(context.Background(), runOptions(t, g.dir, sc.head, head))
	if err != nil {
		t.Fatal(err)
	}
	var full bytes.Buffer
	if err := report.DiffMarkdown(&full, res, report.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	const limit = 2000
	if full.Len() <= limit {
		t.Fatalf("the full markdown is only %d bytes; the test needs more than %d", full.Len(), limit)
	}
	var cut bytes.Buffer
	if err := report.DiffMarkdown(&cut, res, report.MarkdownOptions{MaxBytes: limit, FullDiff: "the job summary"}); err != nil {
		t.Fatal(err)
	}
	out := cut.String()
	if len(out) > limit {
		t.Errorf("output is %d bytes, over the %d limit", len(out), limit)
	}
	for _, want := range []string{"**Deletions**", "Kustomization `flux-system/extra` removed", "did not fit", "the job summary", "| `clusters/staging` |"} {
		if !strings.Contains(out, want) {
			t.Errorf("truncated markdown lacks %q:\n%s", want, out)
		}
	}
	// Deletions are kept before other diffs.
	if !strings.Contains(out, "ConfigMap/extra/settings removed") {
		t.Errorf("the deletion diff was cut before other diffs:\n%s", out)
	}
}

// TestWarmCacheEqualsNoCache: diff and plan that take builds from the
// on-disk build cache (left by the previous scenario's run, as CI's
// actions/cache leaves the last run's) say exactly what they say without
// a cache, and the base is taken from the cache once it is warm.
func TestWarmCacheEqualsNoCache(t *testing.T) {
	g, scenarios := fleetHistory(t)
	ctx := context.Background()
	cacheDir := filepath.Join(t.TempDir(), "builds")
	cached := func(o diff.RunOptions) diff.RunOptions {
		o.CacheDir, o.CacheVersion = cacheDir, "test"
		return o
	}
	cachedSomewhere := false
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			want, _, err := diff.Run(ctx, runOptions(t, g.dir, sc.base, sc.head))
			if err != nil {
				t.Fatal(err)
			}
			wtext, wmd, wjs := render(t, want)
			// The first run of a scenario finds the previous scenario's
			// head (this base) in the cache; the second finds its own.
			for run := range 2 {
				got, stats, err := diff.Run(ctx, cached(runOptions(t, g.dir, sc.base, sc.head)))
				if err != nil {
					t.Fatal(err)
				}
				if (i > 0 || run > 0) && stats.Cached > 0 {
					cachedSomewhere = true
				}
				if i == 0 && run == 0 && stats.Cached != 0 {
					t.Errorf("an empty cache gave %d builds", stats.Cached)
				}
				text, md, js := render(t, got)
				if text != wtext || md != wmd || js != wjs {
					t.Errorf("run %d: the diff with a build cache differs from the one without\n--- without\n%s\n--- with\n%s", run, wtext, text)
				}
				plan, err := diff.RunPlan(ctx, cached(runOptions(t, g.dir, sc.base, sc.head)))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(plan.Paths, sc.plan) {
					t.Errorf("run %d: plan with a build cache = %q, want %q", run, plan.Paths, sc.plan)
				}
			}
		})
	}
	if !cachedSomewhere {
		t.Error("no run took a base build from the cache")
	}
}
