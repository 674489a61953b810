package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/kube/cluster"
	"github.com/slipwayhq/slipway/internal/result"
)

// decodeManifests parses multi-document YAML into objects.
func decodeManifests(name string, data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		out = append(out, u)
	}
}

// applySystem applies slipway's system objects with server-side apply,
// staged (the namespace first), as the field manager deploys use. They get
// the labels of the cluster path's root Kustomization and no ApplySet
// label: the first deploy of the cluster path adopts them into the root's
// inventory, as it would any unowned object carrying its labels. Applying
// them under an inventory here would either forget the root's other
// members or make them another ApplySet's.
func applySystem(ctx context.Context, c *cluster.Cluster, objs []*unstructured.Unstructured, dryRun bool) ([]result.Change, error) {
	root := result.KustomizationRef{Namespace: flux.DefaultNamespace, Name: flux.DefaultNamespace}
	for _, u := range objs {
		l := u.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l["kustomize.toolkit.fluxcd.io/name"] = root.Name
		l["kustomize.toolkit.fluxcd.io/namespace"] = root.Namespace
		u.SetLabels(l)
	}
	poller := polling.NewStatusPoller(c.Client, c.Client.RESTMapper(), polling.Options{})
	rm := ssa.NewResourceManager(c.Client, poller, ssa.Owner{Field: deploy.FieldManager, Group: flux.KustomizeGroup})
	var changes []result.Change
	record := func(cs *ssa.ChangeSet) {
		if cs == nil {
			return
		}
		for _, e := range cs.Entries {
			a := result.ActionUnchanged
			switch e.Action {
			case ssa.CreatedAction:
				a = result.ActionCreated
			case ssa.ConfiguredAction:
				a = result.ActionConfigured
			}
			changes = append(changes, result.Change{ID: result.ObjectID{Group: e.ObjMetadata.GroupKind.Group, Kind: e.ObjMetadata.GroupKind.Kind, Namespace: e.ObjMetadata.Namespace, Name: e.ObjMetadata.Name}, Action: a})
		}
	}
	if dryRun {
		for _, u := range objs {
			changes = append(changes, result.Change{ID: result.IDOf(u), Action: result.ActionCreated, Message: "would be applied"})
		}
		return changes, nil
	}
	opts := ssa.DefaultApplyOptions()
	opts.WaitTimeout = deployWait
	cs, err := rm.ApplyAllStaged(ctx, objs, opts)
	record(cs)
	if err != nil {
		return changes, fmt.Errorf("applying slipway's system objects: %w", err)
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].ID.String() < changes[j].ID.String() })
	return changes, nil
}

// systemObjects reads the system manifests from the clone (the user's
// edits included) in a stable order.
func systemObjects(g *gitRepo, mo manifestOptions) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	files := systemManifests(mo)
	names := make([]string, 0, len(files))
	for n := range files {
		if !strings.HasSuffix(n, "/kustomization.yaml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := g.read(n)
		if err != nil {
			// Dry-run of a fresh repository: nothing written yet.
			data = []byte(files[n])
		}
		objs, err := decodeManifests(n, data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}
