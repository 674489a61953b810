package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/hack/fidelity/compare"
)

// The parts of `slipway build -o json` the harness reads.
type (
	slipwayCluster struct {
		Path           string                 `json:"path"`
		Kustomizations []slipwayKustomization `json:"kustomizations"`
		Findings       []slipwayFinding       `json:"findings"`
	}
	slipwayFinding struct {
		Severity      string `json:"severity"`
		Check         string `json:"check"`
		Kustomization *struct {
			Namespace, Name string
		} `json:"kustomization"`
		Object *struct {
			Group, Kind, Namespace, Name string
		} `json:"object"`
		Message string `json:"message"`
	}
	slipwayKustomization struct {
		Kustomization struct{ Namespace, Name string } `json:"kustomization"`
		Path          string                           `json:"path"`
		Source        string                           `json:"source"`
		Error         string                           `json:"error"`
		Objects       []slipwayObject                  `json:"objects"`
		Releases      []struct {
			Error   string          `json:"error"`
			CRDs    []slipwayObject `json:"crds"`
			Objects []slipwayObject `json:"objects"`
		} `json:"releases"`
	}
	slipwayObject struct {
		Object      map[string]any `json:"object"`
		GeneratedBy string         `json:"generatedBy"`
	}
)

func (k slipwayKustomization) ref() string {
	return k.Kustomization.Namespace + "/" + k.Kustomization.Name
}

// checkRepo builds repo with slipway, then each Kustomization with the
// Flux CLI, and compares them.
func checkRepo(ctx context.Context, o options, t target) (*repoReport, error) {
	exp, err := readExpectations(t.expect)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "fidelity-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	clusters, took, err := runSlipway(ctx, o.slipway, t.repo, tmp, exp.SlipwayArgs)
	if err != nil {
		return nil, err
	}
	external, err := externalConfigMaps(exp.SlipwayArgs)
	if err != nil {
		return nil, err
	}
	rep := &repoReport{Report: compare.NewReport(t.repo), slipway: took}
	for _, cp := range clusters {
		if err := checkClusterPath(ctx, o, t.repo, tmp, cp, external, exp, rep); err != nil {
			return nil, err
		}
	}
	rep.Finish(exp)
	return rep, nil
}

func readExpectations(file string) (*compare.Expectations, error) {
	e := &compare.Expectations{}
	if file == "" {
		return e, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(b, e); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return e, nil
}

// externalConfigMaps reads the ConfigMaps of the --external-objects files
// among slipway's arguments: what the cluster holds and Git does not, for
// the Flux CLI's inline variables too. Secrets are left out: their values
// stay out of the harness.
func externalConfigMaps(args []string) ([]compare.Object, error) {
	var out []compare.Object
	for i, a := range args {
		file, ok := strings.CutPrefix(a, "--external-objects=")
		if !ok && a == "--external-objects" && i+1 < len(args) {
			file, ok = args[i+1], true
		}
		if !ok {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		objs, err := parseStream(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, o := range objs {
			if o.ID.APIVersion == "v1" && o.ID.Kind == "ConfigMap" {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// runSlipway runs `slipway build -o json` with a cache of its own (no
// build reused from an earlier run), and returns what it built even when
// it exits 1 (some Kustomization failed: the comparison says which).
func runSlipway(ctx context.Context, bin, repo, tmp string, extra []string) ([]slipwayCluster, time.Duration, error) {
	args := append([]string{"build", "--repo", repo, "-o", "json", "--cache-dir", filepath.Join(tmp, "cache")}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1) {
		return nil, took, fmt.Errorf("slipway %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var clusters []slipwayCluster
	if err := json.Unmarshal(stdout.Bytes(), &clusters); err != nil {
		return nil, took, fmt.Errorf("reading slipway's JSON: %w\n%s", err, stderr.String())
	}
	return clusters, took, nil
}

// checkClusterPath compares every Kustomization of one cluster path.
func checkClusterPath(ctx context.Context, o options, repo, tmp string, cp slipwayCluster, external []compare.Object, exp *compare.Expectations, rep *repoReport) error {
	objects := append(clusterObjects(cp), external...)
	// slipway refuses a whole cluster path where Flux would go ahead (one
	// that builds nothing would prune everything): a difference the objects
	// alone do not show.
	for _, f := range cp.Findings {
		if f.Severity == "error" && f.Check == "build" && f.Kustomization == nil {
			rep.AddFailure(cp.Path, "", compare.SlipwayFails, f.Message, exp)
		}
		// A Kustomization slipway cannot read (an API version Flux no
		// longer serves) is built by neither tool here: not silently.
		if o := f.Object; f.Severity == "error" && f.Check == "flux" && o != nil && o.Group == "kustomize.toolkit.fluxcd.io" && o.Kind == "Kustomization" {
			rep.AddFailure(cp.Path, o.Namespace+"/"+o.Name, compare.SlipwayFails, f.Message, exp)
		}
		// Nor is a ResourceSet slipway cannot render: the CLI renders none,
		// so its objects would be missing from both without a word.
		if f.Severity == "error" && f.Check == "resourceset" && f.Kustomization != nil {
			rep.AddFailure(cp.Path, f.Kustomization.Namespace+"/"+f.Kustomization.Name, compare.SlipwayFails, f.Message, exp)
		}
	}
	if len(cp.Kustomizations) == 0 {
		rep.AddFailure(cp.Path, "", compare.SlipwayFails, "no Kustomization built", exp)
		return nil
	}
	type job struct {
		kb    slipwayKustomization
		skip  string // why the Flux CLI cannot build it here
		build *fluxBuild
		ctx   compare.Context
		fail  error
	}
	jobs := make([]*job, len(cp.Kustomizations))
	root := sourceRef(kustomizationObject(cp, 0, objects))
	for i, kb := range cp.Kustomizations {
		j := &job{kb: kb}
		jobs[i] = j
		ks := kustomizationObject(cp, i, objects)
		ref := sourceRef(ks)
		tree := repo
		if !local(kb, ref, root, objects) {
			why := kb.Error
			tree = ""
			if kb.Error == "" {
				tree, why = fetchedTree(repo, tmp, filepath.Join(tmp, "cache"), kb.Source, kb.Path)
			}
			if tree == "" {
				j.skip = fmt.Sprintf("source %s: not read from this repository's tree by slipway (%s)", ref, why)
				continue
			}
		}
		src, err := sourceTree(tree, tmp, ref, objects)
		if err != nil {
			return err
		}
		b, c, err := prepare(ks, src, objects)
		j.build, j.ctx, j.fail = b, c, err
	}
	results := make([][]compare.Object, len(jobs))
	errs := make([]error, len(jobs))
	var mu sync.Mutex
	sem := make(chan struct{}, max(1, o.parallel))
	var wg sync.WaitGroup
	for i, j := range jobs {
		if j.build == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			objs, took, err := runFlux(ctx, o.flux, tmp, *j.build)
			mu.Lock()
			rep.flux += took
			rep.fluxRuns++
			mu.Unlock()
			results[i], errs[i] = objs, err
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if j.skip != "" {
			rep.AddFailure(cp.Path, j.kb.ref(), compare.NotCompared, j.skip, exp)
			continue
		}
		record(rep, cp.Path, j.kb, j.ctx, results[i], errs[i], j.fail, exp)
	}
	return ctx.Err()
}

// record adds one Kustomization's comparison to the report.
func record(rep *repoReport, cpath string, kb slipwayKustomization, c compare.Context, flux []compare.Object, fluxErr, prepErr error, exp *compare.Expectations) {
	ref := kb.ref()
	var ff *fluxFailed
	switch {
	case prepErr != nil:
		rep.AddFailure(cpath, ref, compare.NotCompared, prepErr.Error(), exp)
	case fluxErr != nil && !errors.As(fluxErr, &ff):
		rep.AddFailure(cpath, ref, compare.FluxFails, fluxErr.Error(), exp)
	case fluxErr != nil && kb.Error != "":
		// Listed with both reasons: they may fail for different ones.
		rep.Explained["both-fail (agreement)"]++
		rep.bothFail = append(rep.bothFail, fmt.Sprintf("%s %s: slipway: %s; Flux: %s", cpath, ref, clip(kb.Error), clip(ff.msg)))
	case fluxErr != nil:
		rep.AddFailure(cpath, ref, compare.FluxFails, ff.msg, exp)
	case kb.Error != "":
		rep.AddFailure(cpath, ref, compare.SlipwayFails, kb.Error, exp)
	default:
		rep.Add(cpath, ref, compare.Compare(flux, slipwayObjects(kb), c), exp)
		for _, r := range kb.Releases {
			if r.Error != "" {
				rep.Explained["helm-release-not-rendered (neither tool)"]++
			}
		}
	}
}

// clip bounds a message quoted in the report.
func clip(s string) string {
	if len(s) > maxMessage {
		return s[:maxMessage] + "…"
	}
	return s
}

// slipwayObjects lists what slipway built for a Kustomization, the
// objects its HelmReleases and ResourceSets render to marked as such.
func slipwayObjects(kb slipwayKustomization) []compare.Object {
	var out []compare.Object
	for _, o := range kb.Objects {
		obj := compare.NewObject(o.Object)
		obj.GeneratedBy = o.GeneratedBy
		out = append(out, obj)
	}
	for _, r := range kb.Releases {
		for _, list := range [][]slipwayObject{r.CRDs, r.Objects} {
			for _, o := range list {
				obj := compare.NewObject(o.Object)
				obj.Rendered = true
				out = append(out, obj)
			}
		}
	}
	return out
}

// sourceRef is a Kustomization object's KIND/NAMESPACE/NAME source.
func sourceRef(ks map[string]any) string {
	spec, _ := ks["spec"].(map[string]any)
	ref, _ := spec["sourceRef"].(map[string]any)
	kind, _ := ref["kind"].(string)
	name, _ := ref["name"].(string)
	ns, _ := ref["namespace"].(string)
	if ns == "" {
		md, _ := ks["metadata"].(map[string]any)
		ns, _ = md["namespace"].(string)
	}
	return kind + "/" + ns + "/" + name
}

// local: slipway read the Kustomization's source from this repository's
// tree (the root source, one of its URL and ref, or any source slipway
// built from the checkout: it names every other tree in kb.Source, so a
// build without error and without a source name read the checkout, e.g.
// the OCIRepository a FluxInstance syncs, this repository as pushed), so
// the Flux CLI can be given the same tree.
func local(kb slipwayKustomization, ref, root string, objects []compare.Object) bool {
	if kb.Source != "" {
		return false
	}
	return kb.Error == "" || sameSource(ref, root, objects)
}

// sameSource: ref is the root source, or a GitRepository of the same URL
// and ref, so its files are the same tree.
func sameSource(ref, root string, objects []compare.Object) bool {
	if ref == root {
		return true
	}
	a, b := sourceObject(ref, objects), sourceObject(root, objects)
	if a == nil || b == nil || a.ID.Kind != "GitRepository" || b.ID.Kind != "GitRepository" {
		return false
	}
	as, _ := a.Body["spec"].(map[string]any)
	bs, _ := b.Body["spec"].(map[string]any)
	return as["url"] == bs["url"] && reflect.DeepEqual(as["ref"], bs["ref"])
}

// sourceObject finds the Flux source KIND/NAMESPACE/NAME in objects.
func sourceObject(ref string, objects []compare.Object) *compare.Object {
	for i, o := range objects {
		if strings.HasPrefix(o.ID.APIVersion, "source.toolkit.fluxcd.io/") && ref == o.ID.Kind+"/"+o.ID.Namespace+"/"+o.ID.Name {
			return &objects[i]
		}
	}
	return nil
}

// clusterObjects lists every object a cluster path builds.
func clusterObjects(cp slipwayCluster) []compare.Object {
	var out []compare.Object
	for _, kb := range cp.Kustomizations {
		for _, o := range kb.Objects {
			out = append(out, compare.NewObject(o.Object))
		}
	}
	return out
}

// kustomizationObject returns the Kustomization object slipway built as
// the i-th of the cluster path: found in an output, or, for a root that
// no output declares (no gotk-sync.yaml), the one `flux bootstrap` or
// Flux Operator makes.
func kustomizationObject(cp slipwayCluster, i int, objects []compare.Object) map[string]any {
	kb := cp.Kustomizations[i]
	for _, o := range objects {
		if strings.HasPrefix(o.ID.APIVersion, "kustomize.toolkit.fluxcd.io/") && o.ID.Kind == "Kustomization" &&
			o.ID.Namespace == kb.Kustomization.Namespace && o.ID.Name == kb.Kustomization.Name {
			return o.Body
		}
	}
	return map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": kb.Kustomization.Name, "namespace": kb.Kustomization.Namespace},
		"spec": map[string]any{
			"interval": "10m",
			"path":     "./" + kb.Path,
			"prune":    true,
			// Flux Operator names the source after the sync, as bootstrap
			// does (flux-system).
			"sourceRef": map[string]any{"kind": "GitRepository", "name": kb.Kustomization.Name},
		},
	}
}

// prepare turns a Kustomization object into a Flux CLI build of it. The
// CLI's --dry-run skips postBuild.substituteFrom; the ConfigMaps it names
// are in slipway's output (with values: slipway redacts Secrets only), so
// their variables are given to Flux inline, in Flux's order (later
// substituteFrom entries win, then spec.postBuild.substitute).
func prepare(ks map[string]any, src string, objects []compare.Object) (*fluxBuild, compare.Context, error) {
	var c compare.Context
	ks = deepCopy(ks)
	spec, _ := ks["spec"].(map[string]any)
	md, _ := ks["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	p, _ := spec["path"].(string)
	dir := filepath.Join(src, filepath.FromSlash(path.Clean("/"+p)))
	if pb, ok := spec["postBuild"].(map[string]any); ok {
		vars, secret, err := inlineVariables(pb, ns, objects)
		if err != nil {
			return nil, c, err
		}
		c.SecretVariables = secret
		delete(pb, "substituteFrom")
		if len(vars) > 0 {
			pb["substitute"] = vars
		}
	}
	b, err := yaml.Marshal(ks)
	if err != nil {
		return nil, c, err
	}
	return &fluxBuild{name: name, namespace: ns, dir: dir, kustomization: b}, c, nil
}

// inlineVariables merges the ConfigMap variables of a postBuild with its
// own; secret says whether some come from a Secret (unknown here).
func inlineVariables(pb map[string]any, ns string, objects []compare.Object) (map[string]any, bool, error) {
	vars := map[string]any{}
	secret := false
	from, _ := pb["substituteFrom"].([]any)
	for _, f := range from {
		ref, _ := f.(map[string]any)
		kind, _ := ref["kind"].(string)
		name, _ := ref["name"].(string)
		if kind == "Secret" {
			secret = true
			continue
		}
		cm := find(objects, compare.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: name})
		if cm == nil {
			if opt, _ := ref["optional"].(bool); opt {
				continue
			}
			return nil, false, fmt.Errorf("substituteFrom ConfigMap/%s/%s is not in slipway's output", ns, name)
		}
		data, _ := cm.Body["data"].(map[string]any)
		for k, v := range data {
			vars[k] = v
		}
	}
	if own, ok := pb["substitute"].(map[string]any); ok {
		for k, v := range own {
			vars[k] = v
		}
	}
	return vars, secret, nil
}

func find(objects []compare.Object, id compare.ID) *compare.Object {
	for i := range objects {
		if objects[i].ID == id {
			return &objects[i]
		}
	}
	return nil
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
