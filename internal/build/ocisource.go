package build

import (
	"context"
	"fmt"
	"strings"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// ociTree pulls the artifact an OCIRepository names (`flux push artifact`:
// a tar+gzip layer of manifests) and returns its extracted tree.
func (b *Builder) ociTree(ctx context.Context, reg *sourceRegistry, or *sourcev1.OCIRepository) (*sourceTree, error) {
	if b.opts.OCI == nil {
		return nil, fmt.Errorf("%s is an OCI artifact and fetching is disabled", or.Spec.URL)
	}
	ref, err := ociRefOf(reg, or)
	if err != nil {
		return nil, err
	}
	dir, rev, err := b.opts.OCI.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		return nil, err
	}
	repo.MaxFileSize, repo.MaxDocuments = b.opts.Repo.MaxFileSize, b.opts.Repo.MaxDocuments
	ignore := ""
	if or.Spec.Ignore != nil {
		ignore = *or.Spec.Ignore
	}
	return &sourceTree{name: fmt.Sprintf("OCIRepository/%s/%s@%s", or.Namespace, or.Name, rev), repo: repo, ignore: ignore}, nil
}

// ociRefOf reads what to pull from an OCIRepository's spec, with the
// credentials of its secretRef (as for OCI Helm charts).
func ociRefOf(reg *sourceRegistry, or *sourcev1.OCIRepository) (source.OCIRef, error) {
	ref := source.OCIRef{URL: or.Spec.URL, Insecure: or.Spec.Insecure}
	if p := or.Spec.Provider; p != "" && p != sourcev1.GenericOCIProvider && (or.Spec.SecretRef == nil || or.Spec.SecretRef.Name == "") {
		// Pulling anonymously instead would build something else than
		// Flux pulls, or fail later with a registry's 401.
		return ref, fmt.Errorf("provider %s authenticates with the controller's cloud identity, which slipway does not have (it never uses the runner's): give the OCIRepository a spec.secretRef for the registry", p)
	}
	if r := or.Spec.Reference; r != nil {
		ref.Digest, ref.SemVer, ref.SemverFilter, ref.Tag = r.Digest, r.SemVer, r.SemverFilter, r.Tag
	}
	if ls := or.Spec.LayerSelector; ls != nil {
		ref.MediaType, ref.Operation = ls.MediaType, ls.Operation
	}
	if or.Spec.SecretRef != nil && or.Spec.SecretRef.Name != "" {
		var lookup helm.Lookup
		if reg.secrets != nil {
			lookup = helm.Lookup(reg.secrets)
		} else {
			lookup = func(string, string, string) (*unstructured.Unstructured, bool) { return nil, false }
		}
		host := strings.TrimPrefix(or.Spec.URL, "oci://")
		host, _, _ = strings.Cut(host, "/")
		var err error
		if ref.Username, ref.Password, err = helm.RegistryCredentials(lookup, sourcev1.OCIRepositoryKind, or.Namespace, or.Name, or.Spec.SecretRef.Name, host); err != nil {
			return ref, err
		}
	}
	return ref, nil
}

// ociVerifyFinding is a warning for an OCIRepository whose spec.verify
// slipway does not check: Flux refuses an artifact whose signature does
// not verify, slipway builds it unverified, and says so.
func ociVerifyFinding(clusterPath string, kb *result.KustomizationBuild, o result.Object, or *sourcev1.OCIRepository) []result.Finding {
	if or.Spec.Verify == nil {
		return nil
	}
	f := objFinding(clusterPath, kb, o, "source", fmt.Sprintf(
		"spec.verify (%s) is not checked by slipway: the artifact is built without verifying its signature; Flux refuses it when the signature does not verify", or.Spec.Verify.Provider))
	f.Severity = result.SeverityWarning
	return []result.Finding{f}
}
