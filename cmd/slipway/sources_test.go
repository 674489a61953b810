package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// bucketRepo copies the bucket-source case with its Bucket pointing at
// endpoint, and writes the Secret holding the keys as an external object.
func bucketRepo(t *testing.T, endpoint, bucketName, accessKey, secretKey string) (repo, external string) {
	t.Helper()
	base := fidelityCase(t, "bucket-source")
	repo = filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(base, "repo"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repo, "clusters", "dev", "apps.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "BUCKET_ENDPOINT", endpoint)
	text = strings.ReplaceAll(text, "bucketName: apps", "bucketName: "+bucketName)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	external = filepath.Join(t.TempDir(), "external.yaml")
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: apps-bucket\n  namespace: flux-system\nstringData:\n  accesskey: " + accessKey + "\n  secretkey: " + secretKey + "\n"
	if err := os.WriteFile(external, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo, external
}

// TestBuildBucketSource: a Kustomization synced from an S3-compatible
// bucket builds the objects under spec.prefix, without those the bucket's
// root .sourceignore and spec.ignore leave out.
func TestBuildBucketSource(t *testing.T) {
	s3 := testutil.StartS3Server(t, "slipway-test", "bucket-secret-value-0123")
	s3.Upload(t, "apps", filepath.Join(fidelityCase(t, "bucket-source"), "bucket"))
	repo, external := bucketRepo(t, s3.Endpoint, "apps", s3.AccessKey, s3.SecretKey)
	cache := t.TempDir()
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", cache, "--allow-local-sources", "--external-objects", external)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "  from: bucket\n") || !strings.Contains(r.out, "# Source: Bucket/flux-system/apps@sha256:") ||
		!strings.Contains(r.out, ":manifests/apps/web/configmap.yaml:1") {
		t.Errorf("the bucket's ConfigMap is missing or not attributed to the bucket:\n%s", r.out)
	}
	for _, absent := range []string{"name: draft-web", "name: excluded", "name: outside-prefix", s3.SecretKey} {
		if strings.Contains(r.out+r.err, absent) {
			t.Errorf("output holds %q:\n%s\n%s", absent, r.out, r.err)
		}
	}
	// The same content is served from the cache: the server is asked for
	// the listing, never for the objects again.
	before := s3.Requests.Load()
	r = runCLI(t, nil, "build", "--repo", repo, "--cache-dir", cache, "--allow-local-sources", "--external-objects", external, "--no-build-cache")
	if r.code != 0 {
		t.Fatalf("second build: exit %d\n%s", r.code, r.err)
	}
	if n := s3.Requests.Load() - before; n > 4 {
		t.Errorf("the second build made %d requests; a cached tree needs only the existence check, the root .sourceignore and the listing", n)
	}
}

// TestValidateBucketFailures: a wrong secret, a missing bucket, a Secret
// nowhere and the address policy each fail the Kustomization with a
// finding that names the Bucket, and never print the keys.
func TestValidateBucketFailures(t *testing.T) {
	s3 := testutil.StartS3Server(t, "slipway-test", "bucket-secret-value-0123")
	s3.Upload(t, "apps", filepath.Join(fidelityCase(t, "bucket-source"), "bucket"))
	cases := []struct {
		name, bucket, secret string
		provider             string
		local, noSecret      bool
		want                 []string
	}{
		{name: "wrong secret", bucket: "apps", secret: "not-the-secret-9876", local: true,
			want: []string{"Bucket flux-system/apps", "Access Denied", "(Bucket at clusters/dev/apps.yaml:4)"}},
		{name: "missing bucket", bucket: "nope", secret: s3.SecretKey, local: true,
			want: []string{`bucket "nope"`, "bucket not found", `spec.bucketName "nope" of the Bucket at clusters/dev/apps.yaml:4`}},
		{name: "loopback refused", bucket: "apps", secret: s3.SecretKey,
			want: []string{"a loopback address", "--allow-local-sources"}},
		{name: "no secret", bucket: "apps", secret: s3.SecretKey, local: true, noSecret: true,
			want: []string{"secretRef flux-system/apps-bucket: no such Secret"}},
		{name: "gcp provider", bucket: "apps", secret: s3.SecretKey, local: true, provider: "gcp",
			want: []string{"provider gcp is not supported by slipway"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo, external := bucketRepo(t, s3.Endpoint, c.bucket, s3.AccessKey, c.secret)
			if c.provider != "" {
				p := filepath.Join(repo, "clusters", "dev", "apps.yaml")
				data, _ := os.ReadFile(p)
				if err := os.WriteFile(p, []byte(strings.Replace(string(data), "provider: generic", "provider: "+c.provider, 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"validate", "--repo", repo, "--cache-dir", t.TempDir(), "--kubernetes-version", "1.33"}
			if c.local {
				args = append(args, "--allow-local-sources")
			}
			if !c.noSecret {
				args = append(args, "--external-objects", external)
			}
			r := runCLI(t, nil, args...)
			if r.code == 0 {
				t.Fatalf("exit 0:\n%s\n%s", r.out, r.err)
			}
			all := r.out + r.err
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, secret := range []string{c.secret, s3.SecretKey} {
				if strings.Contains(all, secret) {
					t.Errorf("output holds a secret key:\n%s", all)
				}
			}
		})
	}
}

// ociRepo copies the oci-source case against reg, with edit applied to
// the OCIRepository's file.
func ociRepo(t *testing.T, host string, edit func(string) string) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(fidelityCase(t, "oci-source"), "repo"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repo, "clusters", "dev", "apps.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(edit(strings.ReplaceAll(string(data), "OCI_REGISTRY", host))), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestOCIRepositoryVerifyAndProvider: a spec.verify slipway cannot check
// is a warning at the OCIRepository (the build goes on, never silently
// unverified); a cloud provider without a secretRef fails the
// Kustomization instead of pulling anonymously.
func TestOCIRepositoryVerifyAndProvider(t *testing.T) {
	reg := testutil.StartRegistry(t)
	reg.PushArtifact(t, "manifests/apps", "1.2.0", filepath.Join(fidelityCase(t, "oci-source"), "artifact"))
	verify := ociRepo(t, reg.Host, func(s string) string {
		return strings.Replace(s, "  insecure: true\n", "  insecure: true\n  verify:\n    provider: cosign\n", 1)
	})
	r := runCLI(t, nil, "build", "--repo", verify, "--cache-dir", t.TempDir(), "--allow-local-sources", "-o", "json")
	if !strings.Contains(r.out, "spec.verify (cosign) is not checked by slipway") || !strings.Contains(r.out, `"severity": "warning"`) ||
		!strings.Contains(r.out, "from: artifact") && !strings.Contains(r.out, `"from": "artifact"`) {
		t.Errorf("exit %d; no verify warning, or the artifact was not built:\n%s\n%s", r.code, r.out, r.err)
	}
	aws := ociRepo(t, reg.Host, func(s string) string {
		return strings.Replace(s, "  insecure: true\n", "  insecure: true\n  provider: aws\n", 1)
	})
	r = runCLI(t, nil, "validate", "--repo", aws, "--cache-dir", t.TempDir(), "--allow-local-sources")
	if r.code != exitFailed || !strings.Contains(r.out+r.err, "provider aws authenticates with the controller's cloud identity") {
		t.Errorf("exit %d, want %d and the provider finding:\n%s\n%s", r.code, exitFailed, r.out, r.err)
	}
}

// TestBuildResourceSet: ResourceSets render as Flux Operator renders them
// (inline inputs, a Static provider chosen by selector, << >> templates
// with slugify and quote, commonMetadata, owner labels); the Flux
// Kustomizations they generate are built in turn; a provider whose inputs
// only the cluster knows, and a dependsOn nothing builds, are warnings at
// the ResourceSet's line.
func TestBuildResourceSet(t *testing.T) {
	repo := filepath.Join(fidelityCase(t, "resourceset"), "repo")
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{
		"  name: team-a-settings\n  namespace: team-a\n",
		"  replicas: \"3\"\n",
		"  slug: team-a-payments-and-billing\n",
		"  source: ResourceSet/tenants\n",
		"    owner: platform\n    resourceset.fluxcd.controlplane.io/name: tenants\n    resourceset.fluxcd.controlplane.io/namespace: flux-system\n  name: team-b\n",
		"# Kustomization: flux-system/tenant-team-b (path ./tenants/team-b)\n",
		"  tenant: team-b\nkind: ConfigMap\nmetadata:\n  labels:\n    kustomize.toolkit.fluxcd.io/name: tenant-team-b\n",
		"  region: eu-west-1\nkind: ConfigMap\nmetadata:\n  labels:\n    resourceset.fluxcd.controlplane.io/name: environments\n",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("build output lacks %q:\n%s", want, r.out)
		}
	}
	findings := r.out + r.err
	for _, want := range []string{
		"! clusters/dev/environments.yaml:45 [resourceset] ResourceSet/flux-system/previews: rendering ResourceSet flux-system/previews: ResourceSetInputProvider flux-system/pull-requests is of type GitHubPullRequest",
		"! clusters/dev/tenants.yaml:4 [resourceset] Kustomization/flux-system/flux-system: ResourceSet flux-system/tenants depends on CustomResourceDefinition/certificates.cert-manager.io",
	} {
		if !strings.Contains(findings, want) {
			t.Errorf("findings lack %q:\n%s", want, findings)
		}
	}
	if !strings.Contains(r.out, "  name: team-a-token\n") || strings.Contains(findings, "team-a-generated-token-value") {
		t.Errorf("a generated Secret is missing or its value is printed:\n%s", r.out)
	}
	if strings.Contains(findings, "depends on GitRepository") {
		t.Errorf("the root source counts as missing:\n%s", findings)
	}
	if strings.Contains(r.out, "preview-") && !strings.Contains(r.out, "name: preview-<< inputs.id >>") {
		t.Errorf("objects of a provider known only in the cluster were rendered:\n%s", r.out)
	}
	// JSON says which ResourceSet rendered an object.
	r = runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir(), "-o", "json")
	if r.code != 0 || !strings.Contains(r.out, `"generatedBy": "ResourceSet/flux-system/tenants"`) {
		t.Errorf("JSON output does not name the ResourceSet of generated objects (exit %d)", r.code)
	}
}

// TestResourceSetInRebuiltRoot: when the bootstrapped root Kustomization
// changes what the root builds (here commonMetadata), the root is rebuilt
// and its ResourceSets rendered once, not twice.
func TestResourceSetInRebuiltRoot(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(fidelityCase(t, "resourceset"), "repo"))); err != nil {
		t.Fatal(err)
	}
	sync := `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/example/fleet
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/dev
  prune: true
  commonMetadata:
    labels:
      fleet: dev
  sourceRef:
    kind: GitRepository
    name: flux-system
`
	if err := os.MkdirAll(filepath.Join(repo, "clusters", "dev", "flux-system"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "clusters", "dev", "flux-system", "gotk-sync.yaml"), []byte(sync), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	all := r.out + r.err
	if n := strings.Count(all, "depends on CustomResourceDefinition/certificates.cert-manager.io"); n != 1 {
		t.Errorf("the dependsOn warning appears %d times, want 1:\n%s", n, all)
	}
	if n := strings.Count(r.out, "  name: team-a-settings\n"); n != 1 {
		t.Errorf("team-a-settings appears %d times, want 1:\n%s", n, r.out)
	}
	if !strings.Contains(r.out, "    fleet: dev\n") {
		t.Errorf("the root was not rebuilt with its commonMetadata:\n%s", r.out)
	}
}
