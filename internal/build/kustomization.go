package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// generator returns Flux's kustomization generator for dir. Flux's
// kustomize-controller scans the artifact source-controller made, in which
// ignored files do not exist; here the tree is the repository, so a scan
// skips exactly the YAML files the artifact would leave out. An existing
// kustomization file is used as written: the files it names that the
// artifact leaves out fail to read, as they would in Flux.
func generator(root, dir, existing string, ignore *source.Ignore, obj unstructured.Unstructured) (*kustomize.Generator, error) {
	if existing != "" {
		return kustomize.NewGenerator(root, obj), nil
	}
	files, err := ignore.IgnoredUnder(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return kustomize.NewGenerator(root, obj), nil
	}
	return kustomize.NewGeneratorWithIgnore(root, source.IgnorePatterns(files), obj), nil
}

// KustomizationError is a failure to build one Flux Kustomization.
type KustomizationError struct {
	Ref    result.KustomizationRef
	Origin result.Origin
	Err    error
}

func (e *KustomizationError) Error() string {
	return fmt.Sprintf("building kustomization %s: %v", e.Ref, e.Err)
}
func (e *KustomizationError) Unwrap() error { return e.Err }

// unit is one Kustomization waiting to be built.
type unit struct {
	ks     *kustomizev1.Kustomization
	origin result.Origin
	root   bool
}

func (u *unit) ref() result.KustomizationRef {
	return result.KustomizationRef{Namespace: u.ks.Namespace, Name: u.ks.Name}
}

// built is one Kustomization's build with what validate needs to know.
type built struct {
	kb        *result.KustomizationBuild
	findings  []result.Finding
	sensitive []string
	// missingVars: the build failed for want of a substituteFrom object.
	missingVars bool
}

// buildOne runs Flux's build of one Kustomization: generate or amend the
// kustomization.yaml, kustomize build, decrypt, substitute, then add
// commonMetadata and the owner labels.
func (b *Builder) buildOne(ctx context.Context, clusterPath string, u *unit, src *sourceTree, vars varsResult) built {
	start := time.Now()
	ks := u.ks
	ref := u.ref()
	kb := &result.KustomizationBuild{
		Ref:       ref,
		Spec:      ks,
		Origin:    u.origin,
		Source:    src.name,
		Suspended: ks.Spec.Suspend,
	}
	for _, d := range ks.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = ks.Namespace
		}
		kb.DependsOn = append(kb.DependsOn, result.KustomizationRef{Namespace: ns, Name: d.Name})
	}
	out := built{kb: kb}
	finding := func(sev result.Severity, check string, obj *result.ObjectID, origin result.Origin, msg string) {
		r := ref
		out.findings = append(out.findings, result.Finding{Severity: sev, Check: check, ClusterPath: clusterPath,
			Kustomization: &r, Object: obj, Origin: origin, Message: msg})
	}
	fail := func(err error) built {
		origin := u.origin
		var fe *source.FileError
		if errors.As(err, &fe) {
			origin = result.Origin{File: src.mapFile(fe.File), Line: fe.Line}
		} else if file, rel := relativize(err, src.repo.Root); file != "" {
			// kustomize and Flux's generator name files by absolute path;
			// point at the file, in repository terms.
			err, origin = rel, result.Origin{File: src.mapFile(file)}
		}
		kb.Err = &KustomizationError{Ref: ref, Origin: u.origin, Err: err}
		kb.Duration = time.Since(start)
		finding(result.SeverityError, "build", nil, origin, kb.Err.Error())
		return out
	}

	path := ks.Spec.Path
	if path == "" {
		path = "./"
	}
	rel, err := source.CleanRelative(path)
	if err != nil {
		return fail(fmt.Errorf("spec.path: %w", err))
	}
	kb.Path = rel
	// A revision's tree is written on first use; Flux's generator reads it
	// from disk.
	if err := src.repo.Materialize(); err != nil {
		return fail(err)
	}
	dirAbs := filepath.Join(src.repo.Root, filepath.FromSlash(rel))
	if !src.repo.FS.Exists(dirAbs) {
		return fail(&source.PathError{Path: path, Reason: "spec.path does not exist in " + src.describe()})
	}
	if !src.repo.FS.IsDir(dirAbs) {
		return fail(&source.PathError{Path: path, Reason: "spec.path is not a directory"})
	}

	guard := src.repo.Guard(nil)
	guard.AllowRemote = b.opts.AllowRemoteBases
	// Check an existing kustomization file strictly before Flux's generator
	// parses it leniently, so a duplicate key is reported with its line.
	existing := src.repo.KustomizationFile(dirAbs)
	if existing != "" {
		if _, err := guard.ReadFile(existing); err != nil {
			return fail(err)
		}
	}

	obj, err := toUnstructured(ks)
	if err != nil {
		return fail(err)
	}
	obj.SetAPIVersion(kustomizev1.GroupVersion.String())
	obj.SetKind(kustomizev1.KustomizationKind)
	ignore, err := b.artifactIgnore(src)
	if err != nil {
		return fail(err)
	}
	guard.Ignore = ignore
	gen, err := generator(src.repo.Root, dirAbs, existing, ignore, obj)
	if err != nil {
		return fail(err)
	}
	manifest, kfile, _, err := gen.GenerateManifest(dirAbs)
	if err != nil {
		if gerr := guard.Err(); gerr != nil {
			err = gerr
		} else if existing != "" {
			err = &source.FileError{File: src.repo.Rel(existing), Err: fmt.Errorf("not a valid kustomization: %w", err)}
		}
		return fail(err)
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return fail(fmt.Errorf("reading generated kustomization: %w", err))
	}
	if !b.opts.AllowRemoteBases {
		if remote := source.RemoteRefs(manifest); len(remote) > 0 {
			return fail(&source.FileError{File: src.repo.Rel(kfile), Err: fmt.Errorf("%w: %s", source.ErrRemoteBase, strings.Join(remote, ", "))})
		}
	}
	run := func(g *source.GuardedFS, exclusive bool) (resmap.ResMap, error) {
		g.AddKustomization(kfile, manifest)
		g.RefuseOpenAPI = !exclusive
		return runKustomize(newGeneratedKustomization(g, kfile, manifest), dirAbs, exclusive, g.CustomOpenAPI)
	}
	exclusive := kus.OpenAPI != nil
	resMap, err := run(guard, exclusive)
	if err != nil && !exclusive && errors.Is(guard.Err(), source.ErrCustomOpenAPI) {
		// A nested kustomization declares a schema: rebuild alone.
		guard = src.repo.Guard(nil)
		guard.AllowRemote = b.opts.AllowRemoteBases
		guard.Ignore = ignore
		resMap, err = run(guard, true)
	}
	kb.Files = src.mapFiles(guard.Files())
	if err != nil {
		if gerr := guard.Err(); gerr != nil {
			err = gerr
		}
		return fail(err)
	}

	fallback := result.Origin{File: src.repo.Rel(kfile)}
	if !src.repo.FS.Exists(kfile) {
		fallback = result.Origin{File: src.repo.Rel(dirAbs)}
	}
	origins := newOriginIndex(src.repo, guard.Kustomizations(), fallback)
	stage := &objectStage{b: b, ks: ks, src: src, origins: origins, vars: vars, finding: finding}
	objects, err := stage.run(resMap)
	if err != nil {
		var me *MissingVarsError
		out.missingVars = errors.As(err, &me)
		return fail(err)
	}
	out.sensitive = append(out.sensitive, stage.sensitive...)
	vars = stage.vars
	for _, m := range vars.unknown {
		finding(result.SeverityInfo, "substitution", nil, u.origin, fmt.Sprintf("variables from %s are unknown (SOPS-encrypted, no age key): expressions using them are left as written", m))
	}

	list := make([]*unstructured.Unstructured, len(objects))
	for i := range objects {
		list[i] = objects[i].Object
	}
	// kustomize-controller sets commonMetadata, then its owner labels, on
	// every object it applies.
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(list, cm.Labels, cm.Annotations)
	}
	ssautil.SetCommonMetadata(list, map[string]string{
		kustomizev1.GroupVersion.Group + "/name":      ks.Name,
		kustomizev1.GroupVersion.Group + "/namespace": ks.Namespace,
	}, nil)
	// Secrets themselves are redacted by every renderer; what must also be
	// masked wherever it surfaces is what left a Secret: decrypted values and
	// variables substituted from Secrets.
	out.sensitive = append(out.sensitive, vars.sensitive...)
	kb.Objects = objects
	if len(objects) == 0 {
		if yamlFile := firstYAMLFile(dirAbs); yamlFile != "" {
			// Flux would apply nothing and prune what the Kustomization
			// applied before: say so rather than build it silently.
			finding(result.SeverityWarning, "empty", nil, u.origin, fmt.Sprintf(
				"builds 0 objects although %s holds YAML (%s): Flux would prune everything this Kustomization applied; are the files left out by spec.ignore or a .sourceignore, or not listed in a kustomization.yaml?",
				kb.Path, src.mapFile(src.repo.Rel(yamlFile))))
		}
	}
	kb.Duration = time.Since(start)
	return out
}

// firstYAMLFile returns a YAML file under dir (in walk order), or "".
func firstYAMLFile(dir string) string {
	found := ""
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" {
			return filepath.SkipAll
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// toObject converts a kustomize resource to the form the Kubernetes
// libraries expect: kustomize's maps hold plain ints, which unstructured
// deep copies panic on, so numbers become int64. (Going through JSON does
// the same but renders and re-parses YAML, at several times the cost.)
func toObject(res *resource.Resource) (*unstructured.Unstructured, error) {
	m, err := res.Map()
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: jsonCompatible(m).(map[string]any)}, nil
}

func hasDollar(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "$") || hasDollar(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasDollar(e) {
				return true
			}
		}
	case string:
		return strings.Contains(x, "$")
	}
	return false
}

func jsonCompatible(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonCompatible(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = jsonCompatible(e)
		}
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	default:
		return v
	}
}

// relativize rewrites absolute paths under root in an error message as
// repository-relative ones, and returns the first such file.
func relativize(err error, root string) (string, error) {
	msg := err.Error()
	if !strings.Contains(msg, root) {
		return "", err
	}
	file := ""
	prefix := root + string(filepath.Separator)
	if i := strings.Index(msg, prefix); i >= 0 {
		rest := msg[i+len(prefix):]
		end := strings.IndexAny(rest, " :\n\"'")
		if end < 0 {
			end = len(rest)
		}
		file = filepath.ToSlash(rest[:end])
	}
	msg = strings.ReplaceAll(msg, prefix, "")
	msg = strings.ReplaceAll(msg, root, "<repository root>")
	return file, &relError{msg: msg, err: err}
}

// relError is an error whose message names files relative to the repository.
type relError struct {
	msg string
	err error
}

func (e *relError) Error() string { return e.msg }
func (e *relError) Unwrap() error { return e.err }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
