package build

import (
	"errors"
	"fmt"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"

	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
)

// MissingVarsError is a Kustomization that cannot be built for want of
// substituteFrom objects that are not optional: kustomize-controller fails
// it.
type MissingVarsError struct {
	// Missing are the objects as Kind/namespace/name.
	Missing []string
}

func (e *MissingVarsError) Error() string {
	return fmt.Sprintf("postBuild.substituteFrom %s not found in the cluster path and not optional", strings.Join(e.Missing, ", "))
}

// objectStage turns one Kustomization's kustomize output into the objects
// Flux applies: the YAML round trip kustomize-controller makes, SOPS
// decryption, then postBuild substitution of every document.
type objectStage struct {
	b       *Builder
	ks      *kustomizev1.Kustomization
	src     *sourceTree
	origins *originIndex
	// vars are the resolved variables; run may complete them from the
	// Kustomization's own output.
	vars    varsResult
	finding func(sev result.Severity, check string, obj *result.ObjectID, origin result.Origin, msg string)

	// sensitive collects the decrypted values.
	sensitive []string

	// dec are the keys for this Kustomization, decNote what the finding
	// of a Secret left encrypted adds, decErr a decryption Secret that
	// could not be read (see decryptor).
	dec     *Decryptor
	decNote string
	decErr  error
}

// decoded is one resource on its way to an object.
type decoded struct {
	res *resource.Resource
	o   result.Object
	// id is what findings about the object point at; it is renamed once
	// substituted (an encrypted Secret's name may come from a variable).
	id *result.ObjectID
	// tree is the object's origin in its source tree (o.Origin names the
	// source for findings): where its lines can be read back.
	tree result.Origin
}

func (st *objectStage) run(resMap resmap.ResMap) ([]result.Object, error) {
	all := make([]decoded, 0, resMap.Size())
	for _, res := range resMap.Resources() {
		d, err := st.decode(res)
		if err != nil {
			return nil, err
		}
		all = append(all, d)
	}
	if len(st.vars.missing) > 0 {
		own := make([]result.Object, len(all))
		for i := range all {
			own[i] = all[i].o
		}
		// The warning that a fresh cluster fails is substituteOrderFindings'.
		st.vars = varsFromOwnOutput(st.ks, st.vars, own)
		if len(st.vars.missing) > 0 {
			return nil, &MissingVarsError{Missing: st.vars.missing}
		}
	}
	objects := make([]result.Object, 0, len(all))
	for _, d := range all {
		o, err := st.substitute(d)
		if err != nil {
			return nil, err
		}
		objects = append(objects, o)
	}
	return objects, nil
}

// decode locates a resource in the repository, gives it the value Flux
// applies and decrypts it when it is a SOPS-encrypted Secret.
func (st *objectStage) decode(res *resource.Resource) (decoded, error) {
	if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
		return decoded{}, fmt.Errorf("an object has no apiVersion, kind or name: %s", firstLine(res.MustYaml()))
	}
	treeOrigin := st.origins.locate(res)
	origin := treeOrigin
	origin.File = st.src.mapFile(origin.File)
	if err := reemitFolded(res); err != nil {
		return decoded{}, err
	}
	obj, err := toObject(res)
	if err != nil {
		return decoded{}, err
	}
	d := decoded{res: res, o: result.Object{Object: obj, Origin: origin}, id: new(result.ObjectID), tree: treeOrigin}
	*d.id = d.o.ID()
	if obj.GetKind() != "Secret" || !IsEncrypted(obj) {
		return d, nil
	}
	// Whatever happens to the values, the document is substituted next,
	// as Flux does: its clear fields (metadata.name from ${APP}) must not
	// stay unsubstituted.
	switch {
	case st.ks.Spec.Decryption == nil:
		// As Flux: no spec.decryption, no decryption.
		st.finding(result.SeverityError, "sops", d.id, origin,
			"SOPS-encrypted Secret, but the Kustomization has no spec.decryption: Flux would apply it still encrypted")
		d.o.Encrypted = true
	default:
		if err := st.decryptSecret(&d, treeOrigin, origin, obj, res); err != nil {
			return decoded{}, err
		}
	}
	return d, nil
}

// decryptSecret decrypts one SOPS-encrypted Secret with the keys of its
// Kustomization, or says why it stays encrypted (a finding); the error is
// a failure of the build itself.
func (st *objectStage) decryptSecret(d *decoded, treeOrigin, origin result.Origin, obj *unstructured.Unstructured, res *resource.Resource) error {
	dec := st.decryptor()
	if st.decErr != nil {
		d.o.Encrypted = true
		st.finding(result.SeverityError, "sops", d.id, origin, st.decErr.Error())
		return nil
	}
	if !dec.HasKeys() {
		d.o.Encrypted = true
		st.finding(result.SeverityInfo, "sops", d.id, origin, "SOPS-encrypted Secret not decrypted: no decryption key given"+st.decNote)
		return nil
	}
	plain, derr, err := st.b.decrypt(dec, st.src, treeOrigin, obj, res)
	if err != nil {
		return err
	}
	if derr != nil {
		st.finding(result.SeverityError, "sops", d.id, origin, derr.Error()+st.decNote)
		d.o.Encrypted = true
		return nil
	}
	d.o.Object = plain
	for _, v := range kube.DataValues(plain) {
		st.sensitive = append(st.sensitive, v)
	}
	return nil
}

// decryptor returns the keys for this Kustomization's Secrets: those
// slipway was given, plus those of its spec.decryption.secretRef, which
// kustomize-controller reads from the cluster — here from the external
// objects or, when connected, the cluster. A decryption Secret committed
// to the repository would hold its keys in clear (or need another key
// first), so the build output is not searched.
func (st *objectStage) decryptor() *Decryptor {
	if st.dec != nil {
		return st.dec
	}
	st.dec = st.b.opts.Decryptor
	ref := st.ks.Spec.Decryption.SecretRef
	if ref == nil || ref.Name == "" {
		return st.dec
	}
	name := st.ks.Namespace + "/" + ref.Name
	var u *unstructured.Unstructured
	ok := false
	if st.b.opts.External != nil {
		u, ok = st.b.opts.External("Secret", st.ks.Namespace, ref.Name)
	}
	switch {
	case !ok:
		st.decNote = "; its decryption Secret " + name + " is not among the external objects or in the cluster"
	case IsEncrypted(u):
		st.decNote = "; the decryption Secret " + name + " is itself SOPS-encrypted"
	default:
		vals := kube.DataValues(u)
		for _, v := range vals {
			st.sensitive = append(st.sensitive, v)
		}
		dec, err := st.dec.WithSecret(name, vals)
		if err != nil {
			st.decErr = err
			return st.dec
		}
		st.dec = dec
	}
	return st.dec
}

// substitute runs postBuild substitution on one decoded resource.
func (st *objectStage) substitute(d decoded) (result.Object, error) {
	o := d.o
	// A resource without "$" anywhere is left unchanged by envsubst, and
	// Flux's YAML -> JSON round trip of it is an identity (reemitFolded
	// made the one round trip that is not): skip both.
	if st.ks.Spec.PostBuild == nil || !hasDollar(o.Object.Object) {
		return o, nil
	}
	obj, missing, err := substitute(st.ks, st.vars, d.res)
	if err != nil {
		return o, fmt.Errorf("%s: substituting variables in %s: %w", o.Origin, d.id, err)
	}
	for _, n := range missing {
		at := o.Origin
		if line := st.variableLine(d.tree, n); line > 0 {
			at.Line = line
		}
		st.finding(result.SeverityError, "substitution", d.id, at, fmt.Sprintf("variable ${%s} is not set and has no default (Flux would substitute an empty string)", n))
	}
	if obj != nil {
		o.Object = &unstructured.Unstructured{Object: obj}
	} else if o.Object, err = toObject(d.res); err != nil {
		return o, err
	}
	*d.id = o.ID()
	return o, nil
}

// variableLine is the line of the object's document that first uses the
// variable name, so a finding points at it rather than at the object's
// first line; 0 when the file cannot be read or the use is not written
// there (a patch or a component brought it in).
func (st *objectStage) variableLine(tree result.Origin, name string) int {
	if tree.File == "" || tree.Line <= 0 {
		return 0
	}
	data, err := st.src.file(tree)
	if err != nil {
		return 0
	}
	return lineUsing(data, tree.Line, name)
}

// lineUsing finds, in the YAML document starting at line start, the first
// line holding ${name followed by the end of the name.
func lineUsing(data []byte, start int, name string) int {
	lines := strings.Split(string(data), "\n")
	ref := "${" + name
	for i := start - 1; i < len(lines); i++ {
		l := lines[i]
		if i > start-1 && (strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...")) {
			return 0 // the next document
		}
		for off := 0; ; {
			j := strings.Index(l[off:], ref)
			if j < 0 {
				break
			}
			end := off + j + len(ref)
			if end == len(l) || !isNameByte(l[end]) {
				return i + 1
			}
			off = end
		}
	}
	return 0
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// decrypt decrypts a SOPS-encrypted Secret and writes the plain object back
// into res. derr is why it could not be decrypted (a finding); err is a
// failure of the build itself.
func (b *Builder) decrypt(dec *Decryptor, src *sourceTree, treeOrigin result.Origin, obj *unstructured.Unstructured, res *resource.Resource) (plain *unstructured.Unstructured, derr, err error) {
	raw, err := res.AsYAML()
	if err != nil {
		return nil, nil, err
	}
	plain, derr = dec.Decrypt(obj, raw)
	if errors.Is(derr, ErrMACMismatch) && treeOrigin.Line > 0 {
		// kustomize sorts keys; SOPS hashes values in file order.
		// The document as committed still proves integrity.
		if doc, rerr := src.document(treeOrigin); rerr == nil {
			if p2, err2 := dec.Decrypt(obj, doc); err2 == nil {
				plain, derr = p2, nil
			}
		}
	}
	if derr != nil {
		return nil, derr, nil
	}
	data, err := plain.MarshalJSON()
	if err != nil {
		return nil, nil, err
	}
	if err := res.UnmarshalJSON(data); err != nil {
		return nil, nil, err
	}
	return plain, nil, nil
}
