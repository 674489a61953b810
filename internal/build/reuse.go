package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// Reuse carries Kustomization build outputs from the build of one revision
// into the build of another, so a diff of two revisions only runs
// kustomize for the Kustomizations a change can reach.
//
// A Kustomization is reused when, compared with the earlier build, it has
// the same build-affecting spec, the same source, the same substituteFrom
// values, built without error, and no file it read (nor a file added to
// or removed from a directory it read) changed. Everything else is built.
type Reuse struct {
	// Record, when set, keeps this build's outputs for a later build.
	Record *Recorded
	// Previous are the outputs an earlier build recorded; nil reuses nothing.
	Previous *Recorded
	// Changed are the repository files that differ between the earlier
	// build's revision and this one.
	Changed []source.FileChange

	reused atomic.Int64
}

// Reused returns how many Kustomization builds were taken from Previous.
func (r *Reuse) Reused() int64 { return r.reused.Load() }

// Recorded holds build outputs for reuse. It is safe for concurrent use.
type Recorded struct {
	mu sync.Mutex
	m  map[string]*recordedBuild
}

// NewRecorded returns an empty record.
func NewRecorded() *Recorded { return &Recorded{m: map[string]*recordedBuild{}} }

type recordedBuild struct {
	fingerprint string
	origin      result.Origin
	// out is the build; for one loaded from the build cache, without its
	// objects, which stored holds.
	out built
	// stored are the objects as the build cache holds them: decoded when
	// the build is reused, written back as they are when saved unchanged.
	stored *storedObjects
}

func recordKey(clusterPath string, ref result.KustomizationRef) string {
	return clusterPath + "\x00" + ref.Namespace + "\x00" + ref.Name
}

// buildOrReuse is buildOne, unless the earlier build's output of the same
// Kustomization can stand for it.
func (b *Builder) buildOrReuse(ctx context.Context, clusterPath string, u *unit, src *sourceTree, vars varsResult) built {
	r := b.opts.Reuse
	if r == nil {
		return b.buildOne(ctx, clusterPath, u, src, vars)
	}
	fp, reusable := fingerprint(u.ks, src, vars)
	key := recordKey(clusterPath, u.ref())
	var out built
	var stored *storedObjects
	ok := false
	if prev := r.Previous.get(key); reusable && prev != nil && prev.fingerprint == fp && !Affected(prev.out.kb, r.Changed) {
		if out, ok = prev.reuse(u); ok {
			r.reused.Add(1)
			stored = prev.stored
		}
	}
	if !ok {
		out = b.buildOne(ctx, clusterPath, u, src, vars)
	}
	if reusable && out.kb.Err == nil {
		r.Record.put(key, &recordedBuild{fingerprint: fp, origin: u.origin, out: snapshot(out), stored: stored})
	}
	return out
}

func (rec *Recorded) get(key string) *recordedBuild {
	if rec == nil {
		return nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.m[key]
}

// empty reports whether rec holds no build.
func (rec *Recorded) empty() bool {
	if rec == nil {
		return true
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.m) == 0
}

func (rec *Recorded) put(key string, rb *recordedBuild) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.m[key] = rb
}

// snapshot copies a build result so later changes to the cluster path's
// state (the root adopting its real spec) do not reach the record.
func snapshot(out built) built {
	kb := *out.kb
	return built{kb: &kb, findings: append([]result.Finding(nil), out.findings...), sensitive: append([]string(nil), out.sensitive...)}
}

// reuse returns the recorded build as the build of u (ok false when its
// stored objects do not decode): its objects under
// u's spec and origin. The objects are the recorded ones, shared, not
// copies: builds never modify an object once built (Helm renders into new
// ones, substitution and decryption happen inside the build), and a diff
// then finds each reused object equal to its base by identity instead of
// walking both trees — copying and comparing them was a third of a warm
// diff. Whoever must modify a built object copies it first.
func (rb *recordedBuild) reuse(u *unit) (built, bool) {
	prev := rb.out
	kb := *prev.kb
	objects := prev.kb.Objects
	if rb.stored != nil {
		var ok bool
		if objects, ok = rb.stored.decode(); !ok {
			return built{}, false
		}
	}
	kb.Objects = append([]result.Object(nil), objects...)
	kb.Files = append([]string(nil), prev.kb.Files...)
	kb.Spec, kb.Origin, kb.Suspended, kb.Duration = u.ks, u.origin, u.ks.Spec.Suspend, 0
	kb.DependsOn = nil
	for _, d := range u.ks.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = u.ks.Namespace
		}
		kb.DependsOn = append(kb.DependsOn, result.KustomizationRef{Namespace: ns, Name: d.Name})
	}
	findings := make([]result.Finding, len(prev.findings))
	for i, f := range prev.findings {
		if f.Origin == rb.origin {
			// Findings placed at the Kustomization object follow it.
			f.Origin = u.origin
		}
		findings[i] = f
	}
	return built{kb: &kb, findings: findings, sensitive: append([]string(nil), prev.sensitive...)}, true
}

// fingerprint digests what, besides files, decides a Kustomization's
// output: the spec fields the build uses, its source, and the values
// substituteFrom resolved to. Builds from an ExternalArtifact are never
// reused: the artifact's content depends on its generator, not only on
// files the build read.
func fingerprint(ks *kustomizev1.Kustomization, src *sourceTree, vars varsResult) (string, bool) {
	// Another Git repository's content depends on its GitRepository's ref,
	// which none of the files the build read records: build it every time.
	if src == nil || src.files != nil || src.name != "" {
		return "", false
	}
	spec := ks.Spec.DeepCopy()
	// Fields kustomize-controller only uses to schedule, apply, prune or
	// wait: they change how the output is deployed, not what it is.
	spec.DependsOn, spec.Interval, spec.RetryInterval, spec.Timeout = nil, metav1.Duration{}, nil, nil
	spec.Suspend, spec.Prune, spec.Force, spec.Wait = false, false, false, false
	spec.HealthChecks, spec.HealthCheckExprs, spec.KubeConfig, spec.ServiceAccountName = nil, nil, nil, ""
	spec.DeletionPolicy = ""
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return "", false
	}
	h := sha256.New()
	write := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	write(ks.Namespace, ks.Name, string(specJSON), src.name, src.ignore)
	names := make([]string, 0, len(vars.vars))
	for k := range vars.vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		write("var", k, vars.vars[k])
	}
	unknownNames := make([]string, 0, len(vars.unknownNames))
	for k := range vars.unknownNames {
		unknownNames = append(unknownNames, k)
	}
	sort.Strings(unknownNames)
	write("unknown", strings.Join(vars.unknown, ","), "unknown names", strings.Join(unknownNames, ","), "missing", strings.Join(vars.missing, ","))
	return hex.EncodeToString(h.Sum(nil)), true
}

// Affected reports whether a file change can alter what a Kustomization
// built: a file it read changed, or a file appeared in or vanished from a
// directory it read (a directory without kustomization.yaml takes every
// manifest in it), or a .sourceignore changed. A build that failed is
// always affected.
func Affected(kb *result.KustomizationBuild, changes []source.FileChange) bool {
	if kb == nil || kb.Err != nil {
		return true
	}
	if len(changes) == 0 {
		return false
	}
	files := make(map[string]bool, len(kb.Files))
	dirs := map[string]bool{}
	for _, f := range kb.Files {
		files[f] = true
		dirs[path.Dir(f)] = true
	}
	if kb.Path != "" {
		dirs[kb.Path] = true
	}
	for _, c := range changes {
		if path.Base(c.Path) == ".sourceignore" || files[c.Path] {
			return true
		}
		if c.Action == source.FileModified {
			continue
		}
		for d := path.Dir(c.Path); ; d = path.Dir(d) {
			if dirs[d] {
				return true
			}
			if d == "." || d == "/" {
				break
			}
		}
	}
	return false
}
