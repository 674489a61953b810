package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/helm"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
	"github.com/slipwayhq/slipway/internal/validate"
)

// repoFlags are the flags of every command that reads the repository.
type repoFlags struct {
	repo       string
	paths      []string
	ageKeyFile string
	// sops holds the other SOPS keys and credentials (see sopsFlags).
	sops             sopsFlags
	allowRemoteBases bool
	// allowLocalSources lets sources reach the runner's own addresses.
	allowLocalSources bool
	cacheDir          string
	noBuildCache      bool
	maxFileSize       int64
	maxDocuments      int
	// kubeVersion is the target Kubernetes version HelmReleases are
	// rendered for (and validated against); "" means the default.
	kubeVersion string
	// apiVersions are added to HelmReleases' .Capabilities.APIVersions
	// (--api-versions, then the cluster's when connected).
	apiVersions []string
	// externalFiles hold ConfigMaps and Secrets that exist in the cluster
	// but not in the repository (build.External).
	externalFiles []string
	// cluster, when connected, reads such objects from the cluster.
	cluster helm.Lookup
	// rootSource is --root-source: KIND/NAMESPACE/NAME of the source the
	// cluster paths are synced from, when the repository does not say.
	rootSource string
}

func (f *repoFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", ".", "the configuration repository")
	fl.StringArrayVar(&f.paths, "path", nil, "a cluster path to build (repeatable; default: every directory under clusters/)")
	fl.StringVar(&f.ageKeyFile, "sops-age-key-file", "", "age key file to decrypt SOPS Secrets (default: $SOPS_AGE_KEY, then $SOPS_AGE_KEY_FILE)")
	f.sops.register(cmd)
	fl.BoolVar(&f.allowRemoteBases, "allow-remote-bases", false, "let kustomizations refer to remote bases")
	fl.BoolVar(&f.allowLocalSources, "allow-local-sources", false, "let Git, Helm, OCI and Bucket sources reach loopback, link-local and cloud metadata addresses (refused by default; private networks are always allowed)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache for fetched sources, charts and reusable builds (default: the user cache directory)")
	fl.BoolVar(&f.noBuildCache, "no-build-cache", false, "build every Kustomization, even those no file changed since the cached build")
	fl.Int64Var(&f.maxFileSize, "max-file-size", source.DefaultMaxFileSize, "refuse repository files larger than this many bytes")
	fl.IntVar(&f.maxDocuments, "max-documents", source.DefaultMaxDocuments, "refuse a Kustomization that reads more YAML documents than this (kustomize's time grows with the square of the count)")
	fl.StringVar(&f.rootSource, "root-source", "", "KIND/NAMESPACE/NAME of the source Flux syncs the cluster paths from, when neither a gotk-sync.yaml nor a FluxInstance in the repository names it (default GitRepository/flux-system/flux-system)")
	fl.StringArrayVar(&f.externalFiles, "external-objects", nil, "YAML file of ConfigMaps and Secrets that exist in the cluster but not in the repository, e.g. a HelmRelease's valuesFrom or a chart source's secretRef (repeatable; SOPS-encrypted documents are decrypted)")
}

// external returns what HelmReleases may read outside the build output:
// the --external-objects files, then the cluster when connected.
func (f *repoFlags) external(dec *build.Decryptor) (helm.Lookup, error) {
	ext, err := build.LoadExternal(f.externalFiles, dec)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--external-objects: %w", err)}
	}
	return build.ChainLookups(ext.Lookup(), f.cluster), nil
}

// rootSourceOption parses --root-source; nil when not given.
func (f *repoFlags) rootSourceOption() (*build.RootSource, error) {
	if f.rootSource == "" {
		return nil, nil
	}
	rs, err := build.ParseRootSource(f.rootSource)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--root-source: %w", err)}
	}
	return &rs, nil
}

// decryptor reads the age key from the flag or the environment, and the
// other SOPS keys from their flags. The key content itself is never
// printed, whatever goes wrong.
func (f *repoFlags) decryptor(getenv env) (*build.Decryptor, error) {
	keys, err := f.sops.keys()
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	ageFile := f.ageKeyFile
	switch {
	case ageFile != "":
	case getenv("SOPS_AGE_KEY") != "":
		keys.Age = getenv("SOPS_AGE_KEY")
	default:
		ageFile = getenv("SOPS_AGE_KEY_FILE")
	}
	if ageFile != "" {
		data, err := os.ReadFile(ageFile)
		if err != nil {
			return nil, fmt.Errorf("reading age key file: %w", err)
		}
		keys.Age = string(data)
	}
	return build.NewSOPSDecryptor(keys)
}

func (f *repoFlags) gitCacheDir(getenv env) string {
	return f.cacheSubdir("git")
}

// gitFetcher fetches other Git repositories: the GitHub token (if any)
// goes to the run's GitHub host only, see source.RunCredentials.
func (f *repoFlags) gitFetcher(getenv env) *source.GitFetcher {
	return &source.GitFetcher{CacheDir: f.gitCacheDir(getenv), Credentials: source.RunCredentials(getenv, ""), Network: f.network(getenv)}
}

// ociFetcher pulls OCIRepository sources into the cache, guarded as the
// Git and Helm fetches are.
func (f *repoFlags) ociFetcher(getenv env) *source.OCIFetcher {
	return &source.OCIFetcher{CacheDir: f.cacheSubdir("oci"), Network: f.network(getenv)}
}

// bucketFetcher fetches Bucket sources into the cache, guarded as the Git,
// Helm and OCI fetches are; credentials come from each Bucket's secretRef.
func (f *repoFlags) bucketFetcher(getenv env) *source.BucketFetcher {
	return &source.BucketFetcher{CacheDir: f.cacheSubdir("bucket"), Network: f.network(getenv)}
}

// registerKubeVersion adds --kubernetes-version, for commands that render
// HelmReleases without being told the cluster's version.
func (f *repoFlags) registerKubeVersion(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeVersion, "kubernetes-version", "", "target Kubernetes version, e.g. 1.33 (default: newest known, "+validate.SchemaVersion()+")")
	cmd.Flags().StringArrayVar(&f.apiVersions, "api-versions", nil, "API versions HelmReleases' charts see in .Capabilities.APIVersions, as helm template --api-versions: group/version or group/version/Kind (repeatable; connected to a cluster, what it serves is added)")
}

// addClusterAPIVersions adds what a connected cluster serves to the API
// versions charts see, as helm-controller's install would discover them.
func (f *repoFlags) addClusterAPIVersions(cluster interface{ APIVersions() ([]string, error) }) error {
	vs, err := cluster.APIVersions()
	if err != nil {
		return err
	}
	f.apiVersions = append(f.apiVersions, vs...)
	return nil
}

// helmOptions configure HelmRelease rendering: charts are cached next to
// the Git sources.
func (f *repoFlags) helmOptions(getenv env) helm.Options {
	return helm.Options{CacheDir: f.cacheSubdir("charts"), KubeVersion: f.kubeVersion, APIVersions: f.apiVersions, Network: f.network(getenv)}
}

// network guards what sources may reach unless --allow-local-sources.
func (f *repoFlags) network(getenv env) source.NetworkOptions {
	return source.RunNetwork(getenv, f.allowLocalSources)
}

func (f *repoFlags) cacheSubdir(name string) string {
	if f.cacheDir != "" {
		return filepath.Join(f.cacheDir, name)
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "slipway", name)
	}
	return filepath.Join(os.TempDir(), "slipway-cache", name)
}

// buildAll opens the repository and builds the selected cluster paths.
func (f *repoFlags) buildAll(ctx context.Context, getenv env) ([]*result.ClusterBuild, error) {
	return f.buildAllThen(ctx, getenv, nil)
}

// buildAllThen is buildAll, running then on each cluster path's build as
// soon as it is built (see build.RunOptions.Then).
func (f *repoFlags) buildAllThen(ctx context.Context, getenv env, then func(*result.ClusterBuild)) ([]*result.ClusterBuild, error) {
	repo, paths, err := f.open()
	if err != nil {
		return nil, err
	}
	ro, err := f.runOptions(repo, getenv)
	if err != nil {
		return nil, err
	}
	ro.Then = then
	return build.BuildPaths(ctx, paths, ro)
}

// open opens the repository's worktree and lists the selected cluster
// paths.
func (f *repoFlags) open() (*source.Repository, []string, error) {
	repo, err := source.OpenWorktree(f.repo)
	if err != nil {
		return nil, nil, err
	}
	repo.MaxFileSize = f.maxFileSize
	repo.MaxDocuments = f.maxDocuments
	paths, err := repo.ClusterPaths(f.paths)
	if err != nil {
		return nil, nil, err
	}
	return repo, paths, nil
}

// runOptions are the build options of repo the flags ask for.
func (f *repoFlags) runOptions(repo *source.Repository, getenv env) (build.RunOptions, error) {
	dec, err := f.decryptor(getenv)
	if err != nil {
		return build.RunOptions{}, err
	}
	opts := build.DefaultOptions(repo)
	opts.Decryptor = dec
	opts.AllowRemoteBases = f.allowRemoteBases
	opts.Git = f.gitFetcher(getenv)
	opts.OCI = f.ociFetcher(getenv)
	opts.Bucket = f.bucketFetcher(getenv)
	opts.Helm = f.helmOptions(getenv)
	if opts.External, err = f.external(dec); err != nil {
		return build.RunOptions{}, err
	}
	// Connected (apply), a Secret a controller makes is read from the
	// cluster, and missing there fails as in Flux.
	opts.ExternalIsCluster = f.cluster != nil
	if opts.RootSource, err = f.rootSourceOption(); err != nil {
		return build.RunOptions{}, err
	}
	ro := build.RunOptions{Options: opts, Identity: build.BinaryIdentity(version)}
	if !f.noBuildCache {
		ro.CacheDir = f.cacheSubdir("builds")
	}
	return ro, nil
}
