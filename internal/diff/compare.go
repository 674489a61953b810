package diff

import (
	"crypto/rand"
	"fmt"
	redactpkg "github.com/slipwayhq/slipway/internal/redact"
	"reflect"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/images"
	"github.com/slipwayhq/slipway/internal/result"
)

// DefaultContext is the number of unchanged lines around each change.
const DefaultContext = 3

// Options tune Compare.
type Options struct {
	// Base and Head name the revisions in the result.
	Base, Head string
	// Context lines around changes in unified diffs; 0 means
	// DefaultContext, a negative number none.
	Context int
	// Noise is what the comparison ignores (the zero value: nothing).
	Noise Noise
	// Sensitive are further values to mask; the builds' own Sensitive
	// values are always masked.
	Sensitive []string
}

// ownerLabels are set by the build on every object from its
// Kustomization's name: the diff groups objects by Kustomization already,
// and keeping them would make every moved object look changed.
var ownerLabels = []string{kustomizev1.GroupVersion.Group + "/name", kustomizev1.GroupVersion.Group + "/namespace"}

// comparer holds what one comparison needs: the salt of this run's
// Secret hashes and the masker of both builds' secret values.
type comparer struct {
	salt    []byte
	mask    *redactpkg.Masker
	context int
	noise   Noise
	// skipped are the objects of skipped kinds, for the count.
	skipped map[result.ObjectID]bool
}

// Compare returns what differs between the cluster builds of a base and a
// head revision. A cluster path built in one list only was added or
// removed; a nil entry counts as absent.
func Compare(base, head []*result.ClusterBuild, opts Options) (*Result, error) {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("salting secret hashes: %w", err)
	}
	sensitive := append([]string(nil), opts.Sensitive...)
	byPath := map[string][2]*result.ClusterBuild{}
	for _, cb := range base {
		if cb != nil {
			e := byPath[cb.Path]
			e[0] = cb
			byPath[cb.Path] = e
			sensitive = append(sensitive, cb.Sensitive...)
		}
	}
	for _, cb := range head {
		if cb != nil {
			e := byPath[cb.Path]
			e[1] = cb
			byPath[cb.Path] = e
			sensitive = append(sensitive, cb.Sensitive...)
		}
	}
	c := &comparer{salt: salt, mask: redactpkg.NewMasker(sensitive), context: opts.Context, noise: opts.Noise, skipped: map[result.ObjectID]bool{}}
	switch {
	case c.context == 0:
		c.context = DefaultContext
	case c.context < 0:
		c.context = 0
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	res := &Result{Base: opts.Base, Head: opts.Head, Clusters: []*ClusterDiff{}}
	for _, p := range paths {
		e := byPath[p]
		res.Clusters = append(res.Clusters, c.cluster(p, e[0], e[1]))
	}
	if !opts.Noise.Empty() {
		res.Ignored = &Ignored{Noise: opts.Noise, Skipped: len(c.skipped)}
	}
	return res, nil
}

// unitKind names what owns an object in a cluster path.
type unitKey struct {
	kind string // "Kustomization" or "HelmRelease"
	ref  result.KustomizationRef
}

func (u unitKey) String() string { return u.kind + " " + u.ref.String() }

type entry struct {
	unit unitKey
	obj  result.Object
}

// side is one revision of a cluster path, indexed.
type side struct {
	cb       *result.ClusterBuild
	ks       map[result.KustomizationRef]*result.KustomizationBuild
	order    []result.KustomizationRef
	releases map[result.KustomizationRef]*result.ReleaseBuild
	// relOwner maps a HelmRelease to the Kustomization that produced it.
	relOwner map[result.KustomizationRef]result.KustomizationRef
	objects  map[result.ObjectID]*entry
}

func (c *comparer) index(cb *result.ClusterBuild) *side {
	s := &side{cb: cb, ks: map[result.KustomizationRef]*result.KustomizationBuild{},
		releases: map[result.KustomizationRef]*result.ReleaseBuild{},
		relOwner: map[result.KustomizationRef]result.KustomizationRef{},
		objects:  map[result.ObjectID]*entry{}}
	if cb == nil {
		return s
	}
	add := func(u unitKey, objs []result.Object) {
		for _, o := range objs {
			if o.Object == nil {
				continue
			}
			id := o.ID()
			if c.noise.skips(id.Kind) {
				c.skipped[id] = true
				continue
			}
			if _, dup := s.objects[id]; dup {
				continue // validate reports duplicates; the first one wins
			}
			s.objects[id] = &entry{unit: u, obj: o}
		}
	}
	for _, kb := range cb.Kustomizations {
		if _, dup := s.ks[kb.Ref]; dup {
			continue
		}
		s.ks[kb.Ref] = kb
		s.order = append(s.order, kb.Ref)
		if kb.Err != nil {
			continue // a failed build is not compared object by object
		}
		add(unitKey{"Kustomization", kb.Ref}, kb.Objects)
		for _, rb := range kb.Releases {
			if rb == nil {
				continue
			}
			s.releases[rb.Ref] = rb
			s.relOwner[rb.Ref] = kb.Ref
			if rb.Err != nil {
				continue
			}
			u := unitKey{"HelmRelease", rb.Ref}
			add(u, rb.CRDs)
			add(u, rb.Objects)
		}
	}
	return s
}

// cluster compares one cluster path in stages: its build errors, its
// Kustomizations, their HelmReleases, then object by object, and rolls
// the changes up to the cluster path.
func (c *comparer) cluster(path string, baseCB, headCB *result.ClusterBuild) *ClusterDiff {
	cd := &ClusterDiff{Path: path, Action: presence(baseCB != nil, headCB != nil)}
	b, h := c.index(baseCB), c.index(headCB)
	baseErrs, headErrs := c.errors(cd, b, h)
	sortErrors(cd.Errors)
	t := &tree{ks: map[result.KustomizationRef]*KustomizationDiff{}, rs: map[result.KustomizationRef]*ReleaseDiff{}}
	c.addKustomizations(t, b, h)
	c.addReleases(t, b, h)
	c.addObjects(t, cd, b, h)
	rollUp(cd, t)
	if cd.Action == Unchanged && !sameKeys(baseErrs, headErrs) {
		cd.Action = Changed
	}
	cd.ImageChanges = imageChanges(b, h)
	return cd
}

// presence is the action of something by the revisions that have it:
// added when only the head has it, removed when only the base has it.
func presence(inBase, inHead bool) Action {
	switch {
	case !inBase:
		return Added
	case !inHead:
		return Removed
	}
	return Unchanged
}

// sortErrors orders build errors by revision, then by where they are, so
// the same errors always read the same.
func sortErrors(errs []BuildError) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Revision != errs[j].Revision {
			return errs[i].Revision < errs[j].Revision
		}
		return errs[i].Finding.Origin.String() < errs[j].Finding.Origin.String()
	})
}

// tree is a cluster path's diff as it is put together: Kustomizations in
// order, HelmReleases under the Kustomization that renders them, objects
// under their unit.
type tree struct {
	ks    map[result.KustomizationRef]*KustomizationDiff
	order []result.KustomizationRef
	rs    map[result.KustomizationRef]*ReleaseDiff
}

// place files an object's diff under the unit that renders it.
func (t *tree) place(u unitKey, od *ObjectDiff) {
	if u.kind == "HelmRelease" {
		t.rs[u.ref].Objects = append(t.rs[u.ref].Objects, od)
		return
	}
	t.ks[u.ref].Objects = append(t.ks[u.ref].Objects, od)
}

// addKustomizations: head order, then those only the base has.
func (c *comparer) addKustomizations(t *tree, b, h *side) {
	for _, r := range append(append([]result.KustomizationRef(nil), h.order...), b.order...) {
		if _, ok := t.ks[r]; ok {
			continue
		}
		bk, hk := b.ks[r], h.ks[r]
		kd := &KustomizationDiff{Ref: r, Action: presence(bk != nil, hk != nil)}
		if hk != nil {
			kd.Origin = hk.Origin
		} else {
			kd.Origin = bk.Origin
		}
		var baseErr, headErr error
		if bk != nil {
			baseErr = bk.Err
		}
		if hk != nil {
			headErr = hk.Err
		}
		var failed bool
		kd.Error, failed, kd.Err = failure(c.mask.Mask, baseErr, headErr, hk != nil)
		kd.Reason = build.ReasonOf(kd.Err, result.ReasonBuildFailed)
		kd.Err = c.mask.Err(kd.Err) // printable: a chart's message may quote Secret values
		if failed {
			kd.Action = Failed
		}
		t.ks[r] = kd
		t.order = append(t.order, r)
	}
}

// failure is how a unit's build errors show: the head's error (masked: a
// chart's fail message may quote values taken from Secrets), a failure
// unless the base failed the same way, since failing the same way on both
// sides is not a change; the base's error, a failure, when only the base
// failed and the head has the unit. cause is the error msg shows.
func failure(mask func(string) string, baseErr, headErr error, inHead bool) (msg string, failed bool, cause error) {
	switch {
	case headErr != nil:
		msg = mask(headErr.Error())
		return msg, baseErr == nil || mask(baseErr.Error()) != msg, headErr
	case baseErr != nil && inHead:
		return "base revision: " + mask(baseErr.Error()), true, baseErr
	}
	return "", false, nil
}

// addReleases puts HelmReleases under the Kustomization that renders
// them: the head's first, then those only the base has.
func (c *comparer) addReleases(t *tree, b, h *side) {
	for _, s := range []*side{h, b} {
		for _, r := range s.order {
			kb := s.ks[r]
			if kb == nil {
				continue
			}
			for _, rb := range kb.Releases {
				if rb != nil {
					c.addRelease(t, b, h, rb.Ref, r)
				}
			}
		}
	}
}

func (c *comparer) addRelease(t *tree, b, h *side, ref, owner result.KustomizationRef) {
	if _, ok := t.rs[ref]; ok {
		return
	}
	br, hr := b.releases[ref], h.releases[ref]
	rd := &ReleaseDiff{Ref: ref, Action: presence(br != nil, hr != nil)}
	var baseErr, headErr error
	if br != nil {
		baseErr = br.Err
	}
	if hr != nil {
		headErr = hr.Err
	}
	if br != nil && hr != nil {
		if br.Chart != hr.Chart {
			from, to := br.Chart, hr.Chart
			rd.ChartFrom, rd.ChartTo = &from, &to
		}
		rd.ValuesChanged = br.ValuesDigest != hr.ValuesDigest
	}
	var failed bool
	rd.Error, failed, rd.Err = failure(c.mask.Mask, baseErr, headErr, hr != nil)
	rd.Reason = build.ReasonOf(rd.Err, result.ReasonRenderFailed)
	rd.Err = c.mask.Err(rd.Err)
	if failed {
		rd.Action = Failed
	}
	t.rs[ref] = rd
	t.ks[owner].Releases = append(t.ks[owner].Releases, rd)
}

// objectIDs are the objects of either side, sorted.
func objectIDs(b, h *side) []result.ObjectID {
	ids := make([]result.ObjectID, 0, len(b.objects)+len(h.objects))
	for id := range h.objects {
		ids = append(ids, id)
	}
	for id := range b.objects {
		if _, ok := h.objects[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	return ids
}

// addObjects compares the objects one by one and files those that differ
// under their unit, counting them.
func (c *comparer) addObjects(t *tree, cd *ClusterDiff, b, h *side) {
	for _, id := range objectIDs(b, h) {
		be, he := b.objects[id], h.objects[id]
		// Objects of a unit that failed on the other side are not compared.
		if (be == nil && failedOn(b, he.unit)) || (he == nil && failedOn(h, be.unit)) {
			continue
		}
		switch {
		case be == nil:
			od := c.object(id, nil, &he.obj)
			od.Action = Added
			t.place(he.unit, od)
			cd.Counts.Added++
		case he == nil:
			od := c.object(id, &be.obj, nil)
			od.Action, od.Kept = Removed, keptReason(be)
			t.place(be.unit, od)
			cd.Counts.Removed++
		default:
			od := c.object(id, &be.obj, &he.obj)
			if be.unit != he.unit {
				od.Action, od.From = Moved, be.unit.String()
				t.place(he.unit, od)
				cd.Counts.Moved++
			} else if od.Action == Changed {
				t.place(he.unit, od)
				cd.Counts.Changed++
			}
		}
	}
}

// rollUp marks changed what holds a change: a HelmRelease with changed
// objects, chart or values; a Kustomization with changed objects or
// releases; the cluster path with a changed Kustomization.
func rollUp(cd *ClusterDiff, t *tree) {
	for _, r := range t.order {
		kd := t.ks[r]
		if kd.Action == Unchanged && len(kd.Objects) > 0 {
			kd.Action = Changed
		}
		for _, rd := range kd.Releases {
			if rd.Action == Unchanged && (len(rd.Objects) > 0 || rd.ChartFrom != nil || rd.ValuesChanged) {
				rd.Action = Changed
			}
			if rd.Action != Unchanged && kd.Action == Unchanged {
				kd.Action = Changed
			}
		}
		if kd.Action != Unchanged && cd.Action == Unchanged {
			cd.Action = Changed
		}
		cd.Kustomizations = append(cd.Kustomizations, kd)
	}
}

// failedOn reports whether a unit did not build on one side (so its
// objects there are unknown, not absent).
func failedOn(s *side, u unitKey) bool {
	if u.kind == "HelmRelease" {
		rb, ok := s.releases[u.ref]
		if ok && rb.Err != nil {
			return true
		}
		if owner, ok := s.relOwner[u.ref]; ok {
			return s.ks[owner].Err != nil
		}
		return false
	}
	kb, ok := s.ks[u.ref]
	return ok && kb.Err != nil
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func idLess(a, b result.ObjectID) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Group < b.Group
}

// normalized is an object as the diff shows it.
type normalized struct {
	yaml      string            // redacted, unmasked (equality)
	masked    string            // what is shown
	hashes    map[string]string // Secret key -> salted hash
	encrypted bool
}

func (c *comparer) normalize(o *result.Object) normalized {
	if o == nil {
		return normalized{}
	}
	u := o.Object.DeepCopy()
	c.noise.strip(u.Object)
	labels := u.GetLabels()
	for _, l := range ownerLabels {
		delete(labels, l)
	}
	if len(labels) == 0 {
		unstructured.RemoveNestedField(u.Object, "metadata", "labels")
	} else {
		u.SetLabels(labels)
	}
	if ts, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "creationTimestamp"); ok && ts == nil {
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	}
	n := normalized{encrypted: o.Encrypted}
	if isSecret(u) {
		if o.Encrypted {
			// SOPS metadata (MAC, timestamps) changes on every
			// re-encryption and says nothing a reviewer can use.
			unstructured.RemoveNestedField(u.Object, "sops")
		}
		n.hashes = secretHashes(u, c.salt)
		redact(u)
	}
	data, err := yaml.Marshal(u.Object)
	if err != nil {
		data = []byte(fmt.Sprintf("# cannot render %s: %v\n", o.ID(), err))
	}
	n.yaml = string(data)
	n.masked = c.mask.Mask(n.yaml)
	return n
}

// object compares one object's two versions (either may be nil). The
// action is Changed or Unchanged; the caller decides added, removed, moved.
func (c *comparer) object(id result.ObjectID, a, b *result.Object) *ObjectDiff {
	od := &ObjectDiff{ID: id, Action: Unchanged}
	if b != nil {
		od.Origin = b.Origin
	} else if a != nil {
		od.Origin = a.Origin
	}
	// Most objects of a diff are unchanged (and those of reused builds are
	// the very same): equal trees need no rendering, which is most of the
	// comparison's cost. Equal trees render equally, Secrets included.
	if a != nil && b != nil && a.Encrypted == b.Encrypted && (a.Object == b.Object || reflect.DeepEqual(a.Object.Object, b.Object.Object)) {
		return od
	}
	na, nb := c.normalize(a), c.normalize(b)
	changed := na.yaml != nb.yaml
	if a != nil && b != nil && (na.hashes != nil || nb.hashes != nil) {
		keys := compareKeys(na.hashes, nb.hashes)
		if !keys.Empty() {
			od.SecretKeys = keys
			changed = true
		}
		if na.encrypted || nb.encrypted {
			od.Notes = append(od.Notes, "SOPS-encrypted and not decrypted (no age key): compared by encrypted content, so re-encrypting shows as a change")
		}
	}
	if a == nil || b == nil || changed {
		od.Action = Changed
		od.Diff = c.unified(na.masked, nb.masked)
		if a != nil && b != nil && od.Diff == "" && od.SecretKeys.Empty() {
			od.Notes = append(od.Notes, "a value that came from a Secret changed (masked)")
		}
	}
	return od
}

func (c *comparer) unified(a, b string) string {
	if a == b {
		return ""
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b), FromFile: "base", ToFile: "head", Context: c.context,
	})
	if err != nil {
		return ""
	}
	return s
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	} else {
		out[len(out)-1] += "\n"
	}
	return out
}

// errors lists the error findings of both revisions once each: one the
// base already had is "both" (still failing, not the change's doing), the
// others "head" (new) or "base" (fixed). It returns each side's error keys.
func (c *comparer) errors(cd *ClusterDiff, b, h *side) (baseErrs, headErrs map[string]bool) {
	key := func(f result.Finding) string { return f.Origin.String() + "\x00" + f.Message }
	collect := func(s *side) (map[string]bool, []result.Finding) {
		keys := map[string]bool{}
		var fs []result.Finding
		if s.cb == nil {
			return keys, nil
		}
		for _, f := range s.cb.Findings {
			if f.Severity == result.SeverityError {
				f.Message = c.mask.Mask(f.Message)
				keys[key(f)] = true
				fs = append(fs, f)
			}
		}
		return keys, fs
	}
	baseErrs, baseFs := collect(b)
	headErrs, headFs := collect(h)
	for _, f := range headFs {
		rev := RevisionHead
		if baseErrs[key(f)] {
			rev = RevisionBoth
		}
		cd.Errors = append(cd.Errors, BuildError{Revision: rev, Finding: f})
	}
	for _, f := range baseFs {
		if !headErrs[key(f)] {
			cd.Errors = append(cd.Errors, BuildError{Revision: RevisionBase, Finding: f})
		}
	}
	return baseErrs, headErrs
}

// keptReason says why applying the head would leave a removed object in
// the cluster, as kustomize-controller and helm-controller leave it: ""
// when it would be deleted.
func keptReason(e *entry) string {
	u := e.obj.Object
	if u.GetAnnotations()[annPrune] == "disabled" || u.GetLabels()[annPrune] == "disabled" {
		return annPrune + ": disabled"
	}
	if e.unit.kind == "HelmRelease" && u.GetAnnotations()[helmResourcePolicy] == "keep" {
		return helmResourcePolicy + ": keep"
	}
	return ""
}

// The annotations that keep a removed object in the cluster.
const (
	annPrune           = "kustomize.toolkit.fluxcd.io/prune"
	helmResourcePolicy = "helm.sh/resource-policy"
)

// imageChanges compares the images of each unit built on both sides (or
// on one only: a unit added or removed). A unit that failed on either side
// is left out: its images there are unknown, not absent.
func imageChanges(b, h *side) []images.Change {
	of := func(s, other *side) map[images.UnitKey][]string {
		m := map[images.UnitKey][]string{}
		for _, e := range s.objects {
			if failedOn(other, e.unit) {
				continue
			}
			k := images.UnitKey{Kind: e.unit.kind, Namespace: e.unit.ref.Namespace, Name: e.unit.ref.Name}
			m[k] = append(m[k], images.Of(e.obj.Object)...)
		}
		return m
	}
	return images.Changes(of(b, h), of(h, b))
}
