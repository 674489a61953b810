package build

import (
	"bytes"
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
	"strconv"
	"strings"
	"sync"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/go-git/go-git/v5/plumbing"

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
	// Key names the repository in the cache; "" means Repo.Root. The
	// revisions a diff builds are each served from their own temporary
	// directory: keyed by the Git worktree root they share, they read and
	// write the same cache files, and since the files' digests are of
	// repository-relative paths, content alone decides what is reused.
	Key string
	// Version is slipway's version: a cache written by another version is
	// ignored, as build semantics may differ.
	Version string

	// mu guards the state one run keeps between Load and Save.
	mu sync.Mutex
	// digested memoises file digests within a run: cluster paths share
	// most directories, and Load and Save would otherwise hash the same
	// files several times (the files do not change during a run; if one
	// did, the cache would only be more often rebuilt, never wrong).
	digested map[string]string
	// ignores are the .sourceignore digests, walked once per run.
	ignores map[string]string
	// clean are the loaded cluster paths in which no file changed, with
	// the fingerprints of their loaded builds: a Save that would write the
	// same builds again leaves the file as it is.
	clean map[string]map[string]string
	// sorted are a revision's file paths, sorted, for treeDigests.
	sorted []string
}

// buildCacheFormat changes whenever the file layout does (2: files
// digested as Git hashes them; 3: objects after the header, not in it).
const buildCacheFormat = 3

// cacheMagic starts a cache file. What follows is the length of the
// header in decimal and a newline, the header (cacheFile, JSON), then the
// objects of every build, each as JSON, in the order of the builds' keys
// and of their objects, their sizes in the header. Objects kept apart
// from the header are neither scanned nor copied to read it, and each is
// decoded only when its build is reused.
const cacheMagic = "slipway build cache\n"

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

	// raw are the objects' JSON, in the order of Objects.
	raw [][]byte
}

type cacheObject struct {
	Origin result.Origin `json:"origin"`
	// Size is the length of the object's JSON after the header.
	Size int `json:"size"`
}

// marshal writes a cache file.
func (cf *cacheFile) marshal() ([]byte, error) {
	header, err := json.Marshal(cf)
	if err != nil {
		return nil, err
	}
	size := len(cacheMagic) + 24 + len(header)
	keys := cf.keys()
	for _, k := range keys {
		for _, r := range cf.Builds[k].raw {
			size += len(r)
		}
	}
	data := make([]byte, 0, size)
	data = append(data, cacheMagic...)
	data = strconv.AppendInt(data, int64(len(header)), 10)
	data = append(data, '\n')
	data = append(data, header...)
	for _, k := range keys {
		for _, r := range cf.Builds[k].raw {
			data = append(data, r...)
		}
	}
	return data, nil
}

// parseCacheFile reads a cache file; ok is false for anything but a
// well-formed one. The objects' JSON stays in data, not copied.
func parseCacheFile(data []byte) (cf *cacheFile, ok bool) {
	rest, ok := bytes.CutPrefix(data, []byte(cacheMagic))
	if !ok {
		return nil, false
	}
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, false
	}
	n, err := strconv.Atoi(string(rest[:nl]))
	if err != nil || n < 0 || n > len(rest)-nl-1 {
		return nil, false
	}
	header, objects := rest[nl+1:nl+1+n], rest[nl+1+n:]
	cf = &cacheFile{}
	if err := json.Unmarshal(header, cf); err != nil {
		return nil, false
	}
	for _, k := range cf.keys() {
		e := cf.Builds[k]
		if e == nil {
			return nil, false
		}
		e.raw = make([][]byte, len(e.Objects))
		for i, o := range e.Objects {
			if o.Size < 0 || o.Size > len(objects) {
				return nil, false
			}
			e.raw[i], objects = objects[:o.Size:o.Size], objects[o.Size:]
		}
	}
	return cf, len(objects) == 0
}

func (cf *cacheFile) keys() []string {
	keys := make([]string, 0, len(cf.Builds))
	for k := range cf.Builds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// file is the cache of one cluster path: each run rewrites only the
// cluster paths it built, so runs of different paths do not evict each
// other, and each file's digests describe the files its builds read.
func (c *BuildCache) file(clusterPath string) string {
	sum := sha256.Sum256([]byte(c.key() + "\x00" + clusterPath))
	return filepath.Join(c.Dir, "builds-"+hex.EncodeToString(sum[:12]))
}

func (c *BuildCache) key() string {
	if c.Key != "" {
		return c.Key
	}
	return c.Repo.Root
}

// Load returns a Reuse that takes unchanged builds of the cluster paths
// from the cache and records this run's builds for Save. A missing,
// unreadable or foreign cache reuses nothing: the cache is an
// optimisation, never a reason to fail. The changes are those since each
// cluster path's cache was written; their union only ever makes a build
// less reusable, never wrongly reused.
func (c *BuildCache) Load(clusterPaths []string) *Reuse {
	r := &Reuse{Record: NewRecorded()}
	prev := NewRecorded()
	changed := map[source.FileChange]bool{}
	for _, cp := range clusterPaths {
		data, err := os.ReadFile(c.file(cp))
		if err != nil {
			continue
		}
		cf, ok := parseCacheFile(data)
		if !ok || cf.Format != buildCacheFormat || cf.Version != c.Version || cf.Root != c.key() {
			continue
		}
		now, err := c.digests(cf.Dirs)
		if err != nil {
			continue
		}
		clean := true
		for p, h := range cf.Files {
			switch nh, ok := now[p]; {
			case !ok:
				changed[source.FileChange{Path: p, Action: source.FileDeleted}] = true
				clean = false
			case nh != h:
				changed[source.FileChange{Path: p, Action: source.FileModified}] = true
				clean = false
			}
		}
		for p := range now {
			if _, ok := cf.Files[p]; !ok {
				changed[source.FileChange{Path: p, Action: source.FileAdded}] = true
				clean = false
			}
		}
		fps := map[string]string{}
		for key, e := range cf.Builds {
			if !strings.HasPrefix(key, cp+"\x00") {
				continue
			}
			prev.put(key, e.recorded(func() { c.dirty(cp) }))
			fps[key] = e.Fingerprint
		}
		if clean {
			c.mu.Lock()
			if c.clean == nil {
				c.clean = map[string]map[string]string{}
			}
			c.clean[cp] = fps
			c.mu.Unlock()
		}
	}
	for ch := range changed {
		r.Changed = append(r.Changed, ch)
	}
	sort.Slice(r.Changed, func(i, j int) bool { return r.Changed[i].Path < r.Changed[j].Path })
	r.Previous = prev
	return r
}

// recorded is the entry as a recorded build, its objects decoded when it
// is first reused; bad is called if they cannot be.
func (e *cacheEntry) recorded(bad func()) *recordedBuild {
	kb := &result.KustomizationBuild{Ref: e.Ref, Spec: e.Spec, Path: e.Path, Source: e.Source, Origin: e.KOrigin, Files: e.Files, Suspended: e.Suspended}
	st := &storedObjects{raw: e.raw, origins: make([]result.Origin, len(e.Objects)), bad: bad}
	for i, o := range e.Objects {
		st.origins[i] = o.Origin
	}
	return &recordedBuild{fingerprint: e.Fingerprint, origin: e.Origin, out: built{kb: kb, findings: e.Findings}, stored: st}
}

// storedObjects are a cached build's objects as stored.
type storedObjects struct {
	raw     [][]byte
	origins []result.Origin
	bad     func()

	once    sync.Once
	objects []result.Object
	ok      bool
}

// decode returns the objects, decoded once; ok is false when one does
// not decode (the build is then built again).
func (s *storedObjects) decode() ([]result.Object, bool) {
	s.once.Do(func() {
		objs := make([]result.Object, len(s.raw))
		for i, data := range s.raw {
			u, err := decodeCached(data)
			if err != nil {
				if s.bad != nil {
					s.bad()
				}
				return
			}
			objs[i] = result.Object{Object: u, Origin: s.origins[i]}
		}
		s.objects, s.ok = objs, true
	})
	return s.objects, s.ok
}

// decodeObject decodes one stored object as unstructured's decoder does
// (integers as int64, like the build's, so equal objects compare equal).
func decodeObject(data []byte) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// dirty forgets that a loaded cluster path's file is up to date, so Save
// writes it again (an object in it did not decode).
func (c *BuildCache) dirty(clusterPath string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.clean, clusterPath)
}

// Save writes, for each cluster path, the builds this run recorded that
// may be kept on disk.
func (c *BuildCache) Save(r *Reuse, clusterPaths []string) error {
	if r == nil || r.Record == nil {
		return nil
	}
	for _, cp := range clusterPaths {
		if err := c.save(r.Record, cp); err != nil {
			return err
		}
	}
	return nil
}

func (c *BuildCache) save(rec *Recorded, clusterPath string) error {
	rec.mu.Lock()
	keep := map[string]*recordedBuild{}
	for key, rb := range rec.m {
		if strings.HasPrefix(key, clusterPath+"\x00") && cacheable(rb.out) {
			keep[key] = rb
		}
	}
	rec.mu.Unlock()
	// Decided before encoding anything: encoding every object again only
	// to find the file already says the same was most of a warm run's Save.
	if c.unchanged(clusterPath, keep) {
		return nil
	}
	cf := cacheFile{Format: buildCacheFormat, Version: c.Version, Root: c.key(), Builds: map[string]*cacheEntry{}}
	dirs := map[string]bool{}
	for key, rb := range keep {
		e := encodeEntry(rb)
		if e == nil {
			continue
		}
		cf.Builds[key] = e
		kb := rb.out.kb
		for _, f := range kb.Files {
			dirs[path.Dir(f)] = true
		}
		if kb.Path != "" {
			dirs[kb.Path] = true
		}
	}
	for d := range dirs {
		cf.Dirs = append(cf.Dirs, d)
	}
	sort.Strings(cf.Dirs)
	var err error
	if cf.Files, err = c.digests(cf.Dirs); err != nil {
		return err
	}
	data, err := cf.marshal()
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
	if err := os.Rename(tmp.Name(), c.file(clusterPath)); err != nil {
		return err
	}
	c.expire()
	return nil
}

// unchanged reports whether the builds to save are those Load found for a
// cluster path none of whose files changed: the file on disk already says
// what would be written. (Changed-but-equal entries are written anyway.)
func (c *BuildCache) unchanged(clusterPath string, builds map[string]*recordedBuild) bool {
	c.mu.Lock()
	fps, ok := c.clean[clusterPath]
	c.mu.Unlock()
	if !ok || len(fps) != len(builds) {
		return false
	}
	for key, rb := range builds {
		if fps[key] != rb.fingerprint {
			return false
		}
	}
	return true
}

// cacheMaxAge bounds how long an unused cluster path's cache stays: every
// checkout directory and cluster path leaves a file, and a CI cache or a
// workstation should not collect them forever.
const cacheMaxAge = 14 * 24 * time.Hour

// expire removes cache files not written for cacheMaxAge.
func (c *BuildCache) expire() {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "builds-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > cacheMaxAge {
			_ = os.Remove(filepath.Join(c.Dir, e.Name()))
		}
	}
}

func encodeEntry(rb *recordedBuild) *cacheEntry {
	kb := rb.out.kb
	e := &cacheEntry{Fingerprint: rb.fingerprint, Origin: rb.origin, Ref: kb.Ref, Spec: kb.Spec, Path: kb.Path, Source: kb.Source,
		KOrigin: kb.Origin, Files: kb.Files, Suspended: kb.Suspended, Findings: rb.out.findings}
	// A build reused from the cache has its objects as they were read:
	// written again as they are, not encoded anew.
	var stored [][]byte
	if st := rb.stored; st != nil && len(st.raw) == len(kb.Objects) {
		stored = st.raw
	}
	for i, o := range kb.Objects {
		var data []byte
		if stored != nil {
			data = stored[i]
		} else {
			var err error
			if data, err = o.Object.MarshalJSON(); err != nil {
				return nil
			}
		}
		e.Objects = append(e.Objects, cacheObject{Origin: o.Origin, Size: len(data)})
		e.raw = append(e.raw, data)
	}
	return e
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
// every .sourceignore of the repository, by repository-relative path, as
// Git does (source.FileHash): a revision's hashes come from its tree,
// without reading a file, and equal those of the same files checked out.
// Symlinks are digested by their target, as they are what changed when
// they point elsewhere.
func (c *BuildCache) digests(dirs []string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if files := c.Repo.Files(); files != nil {
		return c.treeDigests(files, dirs), nil
	}
	if c.digested == nil {
		c.digested = map[string]string{}
	}
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
		if h, ok := c.digested[rel]; ok {
			out[rel] = h
			return nil
		}
		h, ok, err := source.FileHash(p, d)
		if err != nil || !ok {
			return err
		}
		out[rel] = h.String()
		c.digested[rel] = out[rel]
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
	if c.ignores == nil {
		all := out
		out = map[string]string{}
		if err := walk(c.Repo.Root, func(name string) bool { return name == ".sourceignore" }); err != nil {
			return nil, err
		}
		c.ignores, out = out, all
	}
	for p, h := range c.ignores {
		out[p] = h
	}
	return out, nil
}

// treeDigests is digests for a revision, from its tree's file list.
func (c *BuildCache) treeDigests(files map[string]plumbing.Hash, dirs []string) map[string]string {
	if c.sorted == nil {
		c.sorted = make([]string, 0, len(files))
		for p := range files {
			c.sorted = append(c.sorted, p)
		}
		sort.Strings(c.sorted)
	}
	out := map[string]string{}
	for _, d := range dirs {
		if strings.HasPrefix(d, "..") || path.IsAbs(d) {
			continue
		}
		if d == "." {
			for p, h := range files {
				out[p] = h.String()
			}
			break
		}
		if h, ok := files[d]; ok {
			out[d] = h.String() // a file, or a symlink, named as a directory
		}
		prefix := d + "/"
		for i := sort.SearchStrings(c.sorted, prefix); i < len(c.sorted) && strings.HasPrefix(c.sorted[i], prefix); i++ {
			out[c.sorted[i]] = files[c.sorted[i]].String()
		}
	}
	for p, h := range files {
		if path.Base(p) == ".sourceignore" {
			out[p] = h.String()
		}
	}
	return out
}
