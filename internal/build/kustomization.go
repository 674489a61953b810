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
	o := &oneBuild{b: b, clusterPath: clusterPath, u: u, src: src, start: time.Now()}
	o.out.kb = newKustomizationBuild(u, src.name)
	dirAbs, err := o.directory()
	if err != nil {
		return o.fail(err)
	}
	gen, err := o.generate(dirAbs)
	if err != nil {
		return o.fail(err)
	}
	resMap, err := o.kustomize(gen, dirAbs)
	if err != nil {
		return o.fail(err)
	}
	objects, err := o.objects(resMap, gen, dirAbs, vars)
	if err != nil {
		return o.fail(err)
	}
	o.out.kb.Objects = objects
	if len(objects) == 0 {
		o.warnIfEmpty(dirAbs)
	}
	o.out.kb.Duration = time.Since(o.start)
	return o.out
}

// oneBuild is the build of one Kustomization as it goes through its
// stages, collecting findings.
type oneBuild struct {
	b           *Builder
	clusterPath string
	u           *unit
	src         *sourceTree
	start       time.Time
	out         built
}

// newKustomizationBuild is what a Kustomization's build says before it is
// built: its reference, spec and where it is defined, and its
// dependencies (a dependsOn without namespace names the Kustomization's
// own, as in Flux).
func newKustomizationBuild(u *unit, sourceName string) *result.KustomizationBuild {
	ks := u.ks
	kb := &result.KustomizationBuild{
		Ref:       u.ref(),
		Spec:      ks,
		Origin:    u.origin,
		Source:    sourceName,
		Suspended: ks.Spec.Suspend,
	}
	for _, d := range ks.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = ks.Namespace
		}
		kb.DependsOn = append(kb.DependsOn, result.KustomizationRef{Namespace: ns, Name: d.Name})
	}
	return kb
}

func (o *oneBuild) finding(sev result.Severity, check string, obj *result.ObjectID, origin result.Origin, msg string) {
	r := o.u.ref()
	o.out.findings = append(o.out.findings, result.Finding{Severity: sev, Check: check, ClusterPath: o.clusterPath,
		Kustomization: &r, Object: obj, Origin: origin, Message: msg})
}

// fail ends the build with err, reported at the file it names when it
// names one.
func (o *oneBuild) fail(err error) built {
	origin := o.u.origin
	var fe *source.FileError
	if errors.As(err, &fe) {
		origin = result.Origin{File: o.src.mapFile(fe.File), Line: fe.Line}
	} else if file, rel := relativize(err, o.src.repo.Root); file != "" {
		// kustomize and Flux's generator name files by absolute path;
		// point at the file, in repository terms.
		err, origin = rel, result.Origin{File: o.src.mapFile(file)}
	}
	kb := o.out.kb
	kb.Err = &KustomizationError{Ref: kb.Ref, Origin: o.u.origin, Err: err}
	kb.Duration = time.Since(o.start)
	o.finding(result.SeverityError, "build", nil, origin, kb.Err.Error())
	return o.out
}

// directory resolves spec.path to a directory of the source tree, written
// out first: Flux's generator reads a revision's tree from disk.
func (o *oneBuild) directory() (string, error) {
	path := o.u.ks.Spec.Path
	if path == "" {
		path = "./"
	}
	rel, err := source.CleanRelative(path)
	if err != nil {
		return "", fmt.Errorf("spec.path: %w", err)
	}
	o.out.kb.Path = rel
	repo := o.src.repo
	if err := repo.Materialize(); err != nil {
		return "", err
	}
	dirAbs := filepath.Join(repo.Root, filepath.FromSlash(rel))
	if !repo.FS.Exists(dirAbs) {
		return "", &source.PathError{Path: path, Reason: "spec.path does not exist in " + o.src.describe()}
	}
	if !repo.FS.IsDir(dirAbs) {
		return "", &source.PathError{Path: path, Reason: "spec.path is not a directory"}
	}
	return dirAbs, nil
}

// generated is the kustomization Flux's generator made for a directory,
// and the guarded filesystem it read.
type generated struct {
	guard    *source.GuardedFS
	ignore   *source.Ignore
	kfile    string
	manifest []byte
	// exclusive: the kustomization declares its own OpenAPI schema, so
	// it builds alone (kustomize's schema is process-wide).
	exclusive bool
}

// newGuard is a filesystem locked to the repository, remote bases as
// the options allow.
func (o *oneBuild) newGuard(ignore *source.Ignore) *source.GuardedFS {
	guard := o.src.repo.Guard(nil)
	guard.AllowRemote = o.b.opts.AllowRemoteBases
	guard.Ignore = ignore
	return guard
}

// generate runs Flux's generator: the kustomization.yaml as written or
// made up, amended with the Kustomization's build options.
func (o *oneBuild) generate(dirAbs string) (*generated, error) {
	repo := o.src.repo
	guard := o.newGuard(nil)
	// Check an existing kustomization file strictly before Flux's generator
	// parses it leniently, so a duplicate key is reported with its line.
	existing := repo.KustomizationFile(dirAbs)
	if existing != "" {
		if _, err := guard.ReadFile(existing); err != nil {
			return nil, err
		}
	}
	obj, err := toUnstructured(o.u.ks)
	if err != nil {
		return nil, err
	}
	obj.SetAPIVersion(kustomizev1.GroupVersion.String())
	obj.SetKind(kustomizev1.KustomizationKind)
	ignore, err := o.b.artifactIgnore(o.src)
	if err != nil {
		return nil, err
	}
	guard.Ignore = ignore
	gen, err := generator(repo.Root, dirAbs, existing, ignore, obj)
	if err != nil {
		return nil, err
	}
	manifest, kfile, _, err := gen.GenerateManifest(dirAbs)
	if err != nil {
		if gerr := guard.Err(); gerr != nil {
			err = gerr
		} else if existing != "" {
			err = &source.FileError{File: repo.Rel(existing), Err: fmt.Errorf("not a valid kustomization: %w", err)}
		}
		return nil, err
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return nil, fmt.Errorf("reading generated kustomization: %w", err)
	}
	if !o.b.opts.AllowRemoteBases {
		if remote := source.RemoteRefs(manifest); len(remote) > 0 {
			return nil, &source.FileError{File: repo.Rel(kfile), Err: fmt.Errorf("%w: %s", source.ErrRemoteBase, strings.Join(remote, ", "))}
		}
	}
	return &generated{guard: guard, ignore: ignore, kfile: kfile, manifest: manifest, exclusive: kus.OpenAPI != nil}, nil
}

// kustomize builds the generated kustomization. A build that finds a
// nested kustomization declaring a schema is run again alone. gen.guard
// is the filesystem of the last attempt.
func (o *oneBuild) kustomize(gen *generated, dirAbs string) (resmap.ResMap, error) {
	run := func(g *source.GuardedFS, exclusive bool) (resmap.ResMap, error) {
		g.AddKustomization(gen.kfile, gen.manifest)
		g.RefuseOpenAPI = !exclusive
		return runKustomize(newGeneratedKustomization(g, gen.kfile, gen.manifest), dirAbs, exclusive, o.b.buildsAll(), g.CustomOpenAPI)
	}
	resMap, err := run(gen.guard, gen.exclusive)
	if err != nil && !gen.exclusive && errors.Is(gen.guard.Err(), source.ErrCustomOpenAPI) {
		gen.guard = o.newGuard(gen.ignore)
		resMap, err = run(gen.guard, true)
	}
	o.out.kb.Files = o.src.mapFiles(gen.guard.Files())
	if err != nil {
		if gerr := gen.guard.Err(); gerr != nil {
			err = gerr
		}
		return nil, err
	}
	return resMap, nil
}

// objects turns kustomize's output into the objects Flux would apply:
// decrypted, substituted, origins mapped, commonMetadata and owner labels
// set.
func (o *oneBuild) objects(resMap resmap.ResMap, gen *generated, dirAbs string, vars varsResult) ([]result.Object, error) {
	repo := o.src.repo
	fallback := result.Origin{File: repo.Rel(gen.kfile)}
	if !repo.FS.Exists(gen.kfile) {
		fallback = result.Origin{File: repo.Rel(dirAbs)}
	}
	origins := newOriginIndex(repo, gen.guard.Kustomizations(), gen.guard.ReadAsFile, fallback)
	stage := &objectStage{b: o.b, ks: o.u.ks, src: o.src, origins: origins, vars: vars, finding: o.finding}
	objects, err := stage.run(resMap)
	if err != nil {
		var me *MissingVarsError
		o.out.missingVars = errors.As(err, &me)
		return nil, err
	}
	o.out.sensitive = append(o.out.sensitive, stage.sensitive...)
	vars = stage.vars
	for _, m := range vars.unknown {
		o.finding(result.SeverityInfo, "substitution", nil, o.u.origin, fmt.Sprintf("variables from %s are unknown (SOPS-encrypted, no age key): expressions using them are left as written", m))
	}
	setOwnerMetadata(objects, o.u.ks)
	// Secrets themselves are redacted by every renderer; what must also be
	// masked wherever it surfaces is what left a Secret: decrypted values and
	// variables substituted from Secrets.
	o.out.sensitive = append(o.out.sensitive, vars.sensitive...)
	return objects, nil
}

// setOwnerMetadata does what kustomize-controller does to every object it
// applies: commonMetadata, then its owner labels.
func setOwnerMetadata(objects []result.Object, ks *kustomizev1.Kustomization) {
	list := make([]*unstructured.Unstructured, len(objects))
	for i := range objects {
		list[i] = objects[i].Object
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(list, cm.Labels, cm.Annotations)
	}
	ssautil.SetCommonMetadata(list, map[string]string{
		kustomizev1.GroupVersion.Group + "/name":      ks.Name,
		kustomizev1.GroupVersion.Group + "/namespace": ks.Namespace,
	}, nil)
}

// warnIfEmpty: Flux would apply nothing and prune what the Kustomization
// applied before, so a directory holding YAML that builds to nothing is
// said rather than built silently.
func (o *oneBuild) warnIfEmpty(dirAbs string) {
	yamlFile := firstYAMLFile(dirAbs)
	if yamlFile == "" {
		return
	}
	o.finding(result.SeverityWarning, "empty", nil, o.u.origin, fmt.Sprintf(
		"builds 0 objects although %s holds YAML (%s): Flux would prune everything this Kustomization applied; are the files left out by spec.ignore or a .sourceignore, or not listed in a kustomization.yaml?",
		o.out.kb.Path, o.src.mapFile(o.src.repo.Rel(yamlFile))))
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
