package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slipwayhq/slipway/internal/result"
)

// KEP-3659 ApplySet labels and annotations, so kubectl and other ApplySet
// tooling recognise slipway's inventories and members.
const (
	LabelApplySetID          = "applyset.kubernetes.io/id"
	LabelApplySetPartOf      = "applyset.kubernetes.io/part-of"
	AnnotationTooling        = "applyset.kubernetes.io/tooling"
	AnnotationGroupKinds     = "applyset.kubernetes.io/contains-group-kinds"
	AnnotationAdditionalNSes = "applyset.kubernetes.io/additional-namespaces"

	// LabelClusterPath (a hash) and AnnotationClusterPath find the
	// inventories of one cluster path; LabelManagedBy marks slipway objects.
	LabelClusterPath        = "slipway.dev/cluster-path"
	AnnotationClusterPath   = "slipway.dev/cluster-path"
	AnnotationKustomization = "slipway.dev/kustomization"
	LabelManagedBy          = "app.kubernetes.io/managed-by"
	ManagedByValue          = "slipway"

	// SystemNamespace holds inventories and locks.
	SystemNamespace = "slipway-system"
	inventoryKey    = "inventory"

	// LabelSystem marks slipway's own objects (the deployer's ServiceAccount
	// and RBAC written by bootstrap): uninstall deletes them even when they
	// are members of an inventory, because they are slipway, not the workload.
	LabelSystem = "slipway.dev/system"

	// AnnotationPrune is Flux's per-object opt-out of pruning
	// ("disabled"); uninstall --prune honours it as prune does.
	AnnotationPrune = annPrune
)

// Entry is one inventory member: Flux's ID form plus the version to reach it.
type Entry struct {
	ID      string `json:"id"` // <ns>_<name>_<group>_<kind>
	Version string `json:"v"`
	// Hash is the hash of the manifest last applied (see liveCache).
	Hash string `json:"h,omitempty"`
	// Release and StorageNamespace are set for a HelmRelease, which is not
	// applied but installed as a Helm release: what uninstalling it needs
	// once it left the repository (see helm.go).
	Release          string `json:"r,omitempty"`
	StorageNamespace string `json:"sn,omitempty"`
	// FormerReleases are releases the HelmRelease installed under an
	// earlier release name or namespace and not yet uninstalled (see
	// helmformer.go): "ns/name,ns/name".
	FormerReleases string `json:"fr,omitempty"`
}

// Object returns a stub object addressing the entry.
func (e Entry) Object() (*unstructured.Unstructured, error) {
	parts := strings.Split(e.ID, "_")
	if len(parts) != 4 {
		return nil, fmt.Errorf("inventory entry %q is malformed", e.ID)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: parts[2], Version: e.Version, Kind: parts[3]})
	u.SetNamespace(parts[0])
	u.SetName(parts[1])
	return u, nil
}

// ObjectID returns the entry's ID in the result model's form.
func (e Entry) ObjectID() result.ObjectID {
	parts := strings.SplitN(e.ID, "_", 4)
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	return result.ObjectID{Namespace: parts[0], Name: parts[1], Group: parts[2], Kind: parts[3]}
}

// EntryOf returns the inventory entry of an object.
func EntryOf(u *unstructured.Unstructured) Entry {
	return Entry{ID: result.IDOf(u).InventoryKey(), Version: u.GroupVersionKind().Version}
}

// Inventory is one Kustomization's ApplySet parent.
type Inventory struct {
	Ref         result.KustomizationRef
	ClusterPath string
	Entries     []Entry
	// exists is false until the parent was read from or written to the cluster.
	exists bool
}

// ParentName is the parent ConfigMap's name for a Kustomization.
func ParentName(ref result.KustomizationRef) string {
	n := "inventory-" + ref.Namespace + "-" + ref.Name
	if len(n) > 253 {
		sum := sha256.Sum256([]byte(n))
		n = n[:200] + "-" + hex.EncodeToString(sum[:8])
	}
	return n
}

// sharedInventories names the Kustomizations of one build whose inventory
// names collide ("a-b/c" and "a/b-c"): deploying them would mix their
// inventories, and pruning one would delete the other's objects.
func sharedInventories(refs []result.KustomizationRef) error {
	seen := map[string]result.KustomizationRef{}
	for _, ref := range refs {
		name := ParentName(ref)
		if prev, ok := seen[name]; ok && prev != ref {
			return fmt.Errorf("kustomizations %s and %s would share the inventory %s/%s (their names collide once joined with '-'); rename one of them; nothing was changed", prev, ref, SystemNamespace, name)
		}
		seen[name] = ref
	}
	return nil
}

// ApplySetID computes the KEP-3659 ID of a parent: base64url(sha256(
// name.namespace.kind.group)) with the "applyset-" prefix and "-v1" suffix.
func ApplySetID(ref result.KustomizationRef) string {
	sum := sha256.Sum256([]byte(ParentName(ref) + "." + SystemNamespace + ".ConfigMap."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// ClusterPathLabel is the label value naming a cluster path.
func ClusterPathLabel(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:16])
}

// IDs returns the entries as a set of IDs.
func (inv *Inventory) IDs() map[string]Entry {
	out := make(map[string]Entry, len(inv.Entries))
	for _, e := range inv.Entries {
		out[e.ID] = e
	}
	return out
}

// inventoryStore reads and writes inventories.
type inventoryStore struct {
	c       client.Client
	tooling string
}

func (s *inventoryStore) key(ref result.KustomizationRef) client.ObjectKey {
	return client.ObjectKey{Namespace: SystemNamespace, Name: ParentName(ref)}
}

// Get returns the stored inventory, empty when none exists.
func (s *inventoryStore) Get(ctx context.Context, ref result.KustomizationRef, clusterPath string) (*Inventory, error) {
	inv := &Inventory{Ref: ref, ClusterPath: clusterPath}
	cm := &corev1.ConfigMap{}
	err := s.c.Get(ctx, s.key(ref), cm)
	if apierrors.IsNotFound(err) {
		return inv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading inventory of %s: %w", ref, err)
	}
	inv.exists = true
	if k := cm.Annotations[AnnotationKustomization]; k != "" && k != ref.String() {
		return nil, result.Because(result.ReasonInventoryConflict, fmt.Errorf("kustomizations %s and %s share the inventory %s/%s (their names collide once joined with '-'); rename one of them", ref, k, SystemNamespace, cm.Name))
	}
	if p := cm.Annotations[AnnotationClusterPath]; p != "" && p != clusterPath {
		return nil, fmt.Errorf("kustomization %s is deployed from cluster path %s, not %s: two cluster paths must not define the same Kustomization on one cluster", ref, p, clusterPath)
	}
	if data := cm.Data[inventoryKey]; data != "" {
		if err := json.Unmarshal([]byte(data), &inv.Entries); err != nil {
			return nil, fmt.Errorf("inventory of %s is corrupt: %w", ref, err)
		}
	}
	return inv, nil
}

// List returns every inventory recorded for a cluster path.
func (s *inventoryStore) List(ctx context.Context, clusterPath string) ([]*Inventory, error) {
	list := &corev1.ConfigMapList{}
	if err := s.c.List(ctx, list, client.InNamespace(SystemNamespace), client.MatchingLabels{LabelClusterPath: ClusterPathLabel(clusterPath)}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing inventories: %w", err)
	}
	var out []*Inventory
	for i := range list.Items {
		inv, err := s.fromConfigMap(&list.Items[i], clusterPath)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// ReadInventory reads an inventory parent ConfigMap found by listing
// SystemNamespace (uninstall lists them all instead of building a path).
func ReadInventory(cm *corev1.ConfigMap, clusterPath string) (*Inventory, error) {
	return (&inventoryStore{}).fromConfigMap(cm, clusterPath)
}

// fromConfigMap reads an inventory parent found by listing.
func (s *inventoryStore) fromConfigMap(cm *corev1.ConfigMap, clusterPath string) (*Inventory, error) {
	ns, name, _ := strings.Cut(cm.Annotations[AnnotationKustomization], "/")
	inv := &Inventory{Ref: result.KustomizationRef{Namespace: ns, Name: name}, ClusterPath: clusterPath, exists: true}
	if data := cm.Data[inventoryKey]; data != "" {
		if err := json.Unmarshal([]byte(data), &inv.Entries); err != nil {
			return nil, fmt.Errorf("inventory %s is corrupt: %w", cm.Name, err)
		}
	}
	return inv, nil
}

// Write stores the inventory with server-side apply, so it is created or
// replaced in one request.
func (s *inventoryStore) Write(ctx context.Context, inv *Inventory) error {
	sort.Slice(inv.Entries, func(i, j int) bool { return inv.Entries[i].ID < inv.Entries[j].ID })
	data, err := json.Marshal(inv.Entries)
	if err != nil {
		return err
	}
	gks := map[string]bool{}
	nss := map[string]bool{}
	for _, e := range inv.Entries {
		id := e.ObjectID()
		if isHelmRelease(id) {
			// Not an object in the cluster: ApplySet tools must not list it.
			continue
		}
		gk := id.Kind
		if id.Group != "" {
			gk += "." + id.Group
		}
		gks[gk] = true
		if id.Namespace != "" && id.Namespace != SystemNamespace {
			nss[id.Namespace] = true
		}
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ParentName(inv.Ref),
			Namespace: SystemNamespace,
			Labels: map[string]string{
				LabelApplySetID:  ApplySetID(inv.Ref),
				LabelClusterPath: ClusterPathLabel(inv.ClusterPath),
				LabelManagedBy:   ManagedByValue,
			},
			Annotations: map[string]string{
				AnnotationTooling:        s.tooling,
				AnnotationGroupKinds:     strings.Join(sortedKeys(gks), ","),
				AnnotationAdditionalNSes: strings.Join(sortedKeys(nss), ","),
				AnnotationClusterPath:    inv.ClusterPath,
				AnnotationKustomization:  inv.Ref.String(),
			},
		},
		Data: map[string]string{inventoryKey: string(data)},
	}
	u, err := toUnstructured(cm)
	if err != nil {
		return err
	}
	if err := s.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing inventory of %s: %w", inv.Ref, err)
	}
	inv.exists = true
	return nil
}

// Delete removes an inventory parent.
func (s *inventoryStore) Delete(ctx context.Context, ref result.KustomizationRef) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ParentName(ref), Namespace: SystemNamespace}}
	if err := s.c.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting inventory of %s: %w", ref, err)
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
