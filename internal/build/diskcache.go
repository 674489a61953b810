package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// BuildCache keeps Kustomization builds on disk between runs, so a run
// after a small change — or after none, the common case of a redeploy —
// only runs kustomize for the Kustomizations a changed file reaches. It
// uses the same rules as the incremental diff (Reuse): same build-affecting
// spec, source and substituteFrom values, and none of the files it read
// (nor a file added to or removed from a directory it read) changed.
//
// Nothing that left a Secret is ever written: Kustomizations with Secret
// objects (plain, decrypted or still encrypted) or values substituted from
// Secrets are not cached and are rebuilt every run. What is written is
// what the repository holds in plain text anyway, rendered.
type BuildCache struct {
	// Dir holds the cache files (created 0700, files 0600).
	Dir string
	// Repo is the repository built.
	Repo *source.Repository
	// Version is slipway's version: a cache written by another version is
	// ignored, as build semantics may differ.
	Version string
}

// buildCacheFormat changes whenever the file layout does.
const buildCacheFormat = 1

type cacheFile struct {
	Format  int                    `json:"format"`
	Version string                 `json:"version"`
	Root    string                 `json:"root"`
	Builds  map[string]*cacheEntry `json:"builds"`
	// Files are the digests of every file under the directories the
	// cached builds read, and of every .sourceignore: what Load compares
	// to find what changed.
	Files map[string]string `json:"files"`
	// Dirs are the directories walked for Files.
	Dirs []string `json:"dirs"`
}

type cacheEntry struct {
	Fingerprint string                     `json:"fingerprint"`
	Origin      result.Origin              `json:"origin"`
	Ref         result.KustomizationRef    `json:"ref"`
	Spec        *kustomizev1.Kustomization `json:"spec"`
	Path        string                     `json:"path"`
	Source      string                     `json:"source"`
	KOrigin     result.Origin              `json:"kustomizationOrigin"`
	Objects     []cacheObject              `json:"objects"`
	Files       []string                   `json:"readFiles"`
	Suspended   bool                       `json:"suspended,omitempty"`
	Findings    []result.Finding           `json:"findings,omitempty"`
}

type cacheObject struct {
	// Object is kept as JSON and decoded by unstructured's decoder, which
	// gives integers as int64 like the build does (plain encoding/json
	// would give float64, and equal objects would compare unequal).
	Object json.RawMessage `json:"object"`
	Origin result.Origin   `json:"origin"`
}

func (c *BuildCache) file() string {
	sum := sha256.Sum256([]byte(c.Repo.Root))
	return filepath.Join(c.Dir, "builds-"+hex.EncodeToString(sum[:12])+".json")
}

// Load returns a Reuse that takes unchanged builds from the cache and
// records this run's builds for Save. A missing, unreadable or foreign
// cache gives a Reuse that reuses nothing: the cache is an optimisation,
// never a reason to fail.
func (c *BuildCache) Load() *Reuse {
	r := &Reuse{Record: NewRecorded()}
	data, err := os.ReadFile(c.file())
	if err != nil {
		return r
	}
	var cf cacheFile
	if err := json.Unmarshal(data, &cf); err != nil || cf.Format != buildCacheFormat || cf.Version != c.Version || cf.Root != c.Repo.Root {
		return r
	}
	now, err := c.digests(cf.Dirs)
	if err != nil {
		return r
	}
	for p, h := range cf.Files {
		switch nh, ok := now[p]; {
		case !ok:
			r.Changed = append(r.Changed, source.FileChange{Path: p, Action: source.FileDeleted})
		case nh != h:
			r.Changed = append(r.Changed, source.FileChange{Path: p, Action: source.FileModified})
		}
	}
	for p := range now {
		if _, ok := cf.Files[p]; !ok {
			r.Changed = append(r.Changed, source.FileChange{Path: p, Action: source.FileAdded})
		}
	}
	prev := NewRecorded()
	for key, e := range cf.Builds {
		kb := &result.KustomizationBuild{Ref: e.Ref, Spec: e.Spec, Path: e.Path, Source: e.Source, Origin: e.KOrigin, Files: e.Files, Suspended: e.Suspended}
		ok := true
		for _, o := range e.Objects {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(o.Object); err != nil {
				ok = false
				break
			}
			kb.Objects = append(kb.Objects, result.Object{Object: u, Origin: o.Origin})
		}
		if !ok {
			continue
		}
		prev.put(key, &recordedBuild{fingerprint: e.Fingerprint, origin: e.Origin, out: built{kb: kb, findings: e.Findings}})
	}
	r.Previous = prev
	return r
}

// Save writes the builds this run recorded that may be kept on disk.
func (c *BuildCache) Save(r *Reuse) error {
	if r == nil || r.Record == nil {
		return nil
	}
	cf := cacheFile{Format: buildCacheFormat, Version: c.Version, Root: c.Repo.Root, Builds: map[string]*cacheEntry{}}
	dirs := map[string]bool{}
	r.Record.mu.Lock()
	for key, rb := range r.Record.m {
		if !cacheable(rb.out) {
			continue
		}
		kb := rb.out.kb
		e := &cacheEntry{Fingerprint: rb.fingerprint, Origin: rb.origin, Ref: kb.Ref, Spec: kb.Spec, Path: kb.Path, Source: kb.Source,
			KOrigin: kb.Origin, Files: kb.Files, Suspended: kb.Suspended, Findings: rb.out.findings}
		ok := true
		for _, o := range kb.Objects {
			data, err := o.Object.MarshalJSON()
			if err != nil {
				ok = false
				break
			}
			e.Objects = append(e.Objects, cacheObject{Object: data, Origin: o.Origin})
		}
		if !ok {
			continue
		}
		cf.Builds[key] = e
		for _, f := range kb.Files {
			dirs[path.Dir(f)] = true
		}
		if kb.Path != "" {
			dirs[kb.Path] = true
		}
	}
	r.Record.mu.Unlock()
	for d := range dirs {
		cf.Dirs = append(cf.Dirs, d)
	}
	sort.Strings(cf.Dirs)
	var err error
	if cf.Files, err = c.digests(cf.Dirs); err != nil {
		return err
	}
	data, err := json.Marshal(cf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, ".builds-*")
	if err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("build cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	return os.Rename(tmp.Name(), c.file())
}

// cacheable says whether a build may be written to disk: nothing in it
// left a Secret, and it built cleanly from this repository.
func cacheable(out built) bool {
	if out.kb == nil || out.kb.Err != nil || len(out.sensitive) > 0 {
		return false
	}
	for _, o := range out.kb.Objects {
		if o.Encrypted || o.Object.GetKind() == "Secret" || IsEncrypted(o.Object) {
			return false
		}
	}
	return true
}

// digests hashes every file under dirs (recursively; .git skipped) and
// every .sourceignore of the repository, by repository-relative path.
// Symlinks are digested by their target, as they are what changed when
// they point elsewhere.
func (c *BuildCache) digests(dirs []string) (map[string]string, error) {
	out := map[string]string{}
	add := func(p string, d fs.DirEntry) error {
		rel, err := filepath.Rel(c.Repo.Root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, done := out[rel]; done {
			return nil
		}
		h := sha256.New()
		if d.Type()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			h.Write([]byte("symlink:" + t))
		} else {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	}
	walk := func(root string, only func(name string) bool) error {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			if only != nil && !only(d.Name()) {
				return nil
			}
			return add(p, d)
		})
		return err
	}
	for _, d := range dirs {
		if strings.HasPrefix(d, "..") || path.IsAbs(d) {
			continue
		}
		if err := walk(filepath.Join(c.Repo.Root, filepath.FromSlash(d)), nil); err != nil {
			return nil, err
		}
	}
	if err := walk(c.Repo.Root, func(name string) bool { return name == ".sourceignore" }); err != nil {
		return nil, err
	}
	return out, nil
}
