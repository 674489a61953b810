package build

import (
	"context"
	"errors"
	"fmt"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slipwayhq/slipway/internal/flux"
	"github.com/slipwayhq/slipway/internal/kube"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// bucketTree fetches the objects a Bucket names (an S3-compatible server)
// and returns their tree, as source-controller archives it.
func (b *Builder) bucketTree(ctx context.Context, reg *sourceRegistry, bk *sourcev1.Bucket) (*sourceTree, error) {
	if b.opts.Bucket == nil {
		return nil, fmt.Errorf("%s is an object storage bucket and fetching is disabled", bk.Spec.Endpoint)
	}
	ref, err := bucketRefOf(reg, bk)
	if err != nil {
		return nil, err
	}
	dir, rev, err := b.opts.Bucket.Fetch(ctx, ref)
	if err != nil {
		return nil, bucketErr(reg, bk, err)
	}
	repo, err := source.OpenWorktree(dir)
	if err != nil {
		return nil, err
	}
	repo.MaxFileSize, repo.MaxDocuments = b.opts.Repo.MaxFileSize, b.opts.Repo.MaxDocuments
	// spec.ignore was applied while listing; what is left gets the
	// archive's own default exclusions, as source-controller archives
	// the downloaded tree with its default filter.
	return &sourceTree{name: fmt.Sprintf("Bucket/%s/%s@%s", bk.Namespace, bk.Name, rev), repo: repo}, nil
}

// bucketErr says where the Bucket was declared: a missing bucket or a
// refused key is fixed there, not at the Kustomization.
func bucketErr(reg *sourceRegistry, bk *sourcev1.Bucket, err error) error {
	o, ok := reg.origins[sourcev1.BucketKind+"/"+refKey(bk.Namespace, bk.Name)]
	if !ok {
		return err
	}
	var be *source.BucketError
	if errors.As(err, &be) && be.NotFound {
		return fmt.Errorf("%w (spec.bucketName %q of the Bucket at %s)", err, bk.Spec.BucketName, o)
	}
	return fmt.Errorf("%w (Bucket at %s)", err, o)
}

// bucketRefOf reads what to fetch from a Bucket's spec. Credentials come
// from its own spec.secretRef only (accesskey, secretkey), never from the
// runner: a provider that would use the controller's cloud identity
// without a Secret is refused, not run with the runner's.
func bucketRefOf(reg *sourceRegistry, bk *sourcev1.Bucket) (source.BucketRef, error) {
	s := bk.Spec
	ref := source.BucketRef{Endpoint: s.Endpoint, BucketName: s.BucketName, Prefix: s.Prefix, Region: s.Region, Insecure: s.Insecure}
	if s.Ignore != nil {
		ref.Ignore = *s.Ignore
	}
	if reason := unsupportedBucketSpec(bk); reason != "" {
		return ref, errors.New(reason)
	}
	if s.SecretRef == nil || s.SecretRef.Name == "" {
		return ref, nil
	}
	var u *unstructured.Unstructured
	ok := false
	if reg.secrets != nil {
		u, ok = reg.secrets("Secret", bk.Namespace, s.SecretRef.Name)
	}
	if !ok {
		return ref, &source.SecretRefError{Namespace: bk.Namespace, Name: s.SecretRef.Name, NotFound: true,
			Reason: "no such Secret in the cluster path, the external objects or the cluster"}
	}
	v := kube.DataValues(u)
	ref.AccessKey, ref.SecretKey = v["accesskey"], v["secretkey"]
	if ref.AccessKey == "" || ref.SecretKey == "" {
		return ref, &source.SecretRefError{Namespace: bk.Namespace, Name: s.SecretRef.Name,
			Reason: "needs both accesskey and secretkey (source-controller's keys for an S3-compatible bucket)"}
	}
	return ref, nil
}

// unsupportedBucketSpec says why slipway cannot fetch a Bucket as
// source-controller would; never silently fetched another way.
func unsupportedBucketSpec(bk *sourcev1.Bucket) string {
	s := bk.Spec
	switch {
	case s.Provider == sourcev1.BucketProviderAmazon && (s.SecretRef == nil || s.SecretRef.Name == ""):
		return "provider aws without spec.secretRef authenticates with the controller's cloud identity, which slipway does not have (it never uses the runner's): give the Bucket a spec.secretRef with accesskey and secretkey"
	case s.Provider == sourcev1.BucketProviderGoogle, s.Provider == sourcev1.BucketProviderAzure:
		return fmt.Sprintf("provider %s is not supported by slipway (only generic S3-compatible endpoints, and aws with spec.secretRef, are)", s.Provider)
	case s.Provider != "" && s.Provider != sourcev1.BucketProviderGeneric && s.Provider != sourcev1.BucketProviderAmazon:
		return fmt.Sprintf("unknown provider %q", s.Provider)
	case s.STS != nil:
		return "spec.sts is not supported by slipway"
	case s.CertSecretRef != nil:
		return "spec.certSecretRef is not supported by slipway: the endpoint's certificate is checked against the system's roots only"
	case s.ProxySecretRef != nil:
		return "spec.proxySecretRef is not supported by slipway (HTTPS_PROXY applies)"
	}
	return ""
}

// registerBucket records a Bucket an output declares.
func registerBucket(reg *sourceRegistry, bk *sourcev1.Bucket, o result.Origin) {
	if bk.Namespace == "" {
		bk.Namespace = flux.DefaultNamespace
	}
	key := refKey(bk.Namespace, bk.Name)
	reg.buckets[key] = bk
	reg.origins[sourcev1.BucketKind+"/"+key] = o
}
