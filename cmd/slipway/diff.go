package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/diff"
	"github.com/slipwayhq/slipway/internal/report"
	"github.com/slipwayhq/slipway/internal/source"
)

// diffFlags are the revision flags of diff and plan.
type diffFlags struct {
	base, head string
	full       bool
}

func (f *diffFlags) register(cmd *cobra.Command, headHelp string) {
	cmd.Flags().StringVar(&f.base, "base", "", "base revision: commit, branch, tag or expression (HEAD~1)")
	cmd.Flags().StringVar(&f.head, "head", "", headHelp)
	cmd.Flags().BoolVar(&f.full, "full", false, "build the head completely instead of reusing the base output of Kustomizations no change reaches")
	_ = cmd.Flags().MarkHidden("full")
}

// runOptions turns the flags into a diff run.
func (f *diffFlags) runOptions(rf *repoFlags, getenv env) (diff.RunOptions, error) {
	dec, err := rf.decryptor(getenv)
	if err != nil {
		return diff.RunOptions{}, err
	}
	git := rf.gitFetcher(getenv)
	external, err := rf.external(dec)
	if err != nil {
		return diff.RunOptions{}, err
	}
	oci, bucket := rf.ociFetcher(getenv), rf.bucketFetcher(getenv)
	rootSource, err := rf.rootSourceOption()
	if err != nil {
		return diff.RunOptions{}, err
	}
	// As build and apply: remote bases are fetched, not read from files
	// the cache can watch.
	var cacheDir string
	if !rf.noBuildCache && !rf.allowRemoteBases {
		cacheDir = rf.cacheSubdir("builds")
	}
	return diff.RunOptions{
		CacheDir: cacheDir, CacheVersion: build.BinaryIdentity(version),
		RepoDir: rf.repo, Base: f.base, Head: f.head, Paths: rf.paths, MaxFileSize: rf.maxFileSize, MaxDocuments: rf.maxDocuments, Full: f.full,
		BuildOptions: func(repo *source.Repository) build.Options {
			o := build.DefaultOptions(repo)
			o.Decryptor, o.AllowRemoteBases, o.Git = dec, rf.allowRemoteBases, git
			o.OCI, o.Bucket = oci, bucket
			o.Helm = rf.helmOptions(getenv)
			o.External = external
			o.RootSource = rootSource
			return o
		},
	}, nil
}

// noiseFlags are diff's noise control: what the comparison ignores.
type noiseFlags struct {
	stripLabels, stripAnnotations, skipKinds []string
	context                                  int
}

func (f *noiseFlags) register(cmd *cobra.Command) {
	def := diff.DefaultNoise()
	fl := cmd.Flags()
	fl.StringSliceVar(&f.stripLabels, "strip-labels", def.StripLabels, "label keys or patterns (checksum/*) removed from every object and template before comparing; --strip-labels= strips none")
	fl.StringSliceVar(&f.stripAnnotations, "strip-annotations", def.StripAnnotations, "annotation keys or patterns removed from every object and template before comparing; --strip-annotations= strips none")
	fl.StringSliceVar(&f.skipKinds, "skip-kinds", nil, "kinds not compared at all, e.g. CustomResourceDefinition,Secret")
	// Not --context: that is the kubeconfig context, as in kubectl.
	fl.IntVarP(&f.context, "unified", "U", diff.DefaultContext, "unchanged lines shown around each change (as git diff -U)")
}

// compareOptions turns the flags into comparison options.
func (f *noiseFlags) compareOptions() (diff.Options, error) {
	n := diff.Noise{StripLabels: nonEmpty(f.stripLabels), StripAnnotations: nonEmpty(f.stripAnnotations), SkipKinds: nonEmpty(f.skipKinds)}
	if err := n.ValidatePatterns(); err != nil {
		return diff.Options{}, &exitError{code: exitUsage, err: err}
	}
	if f.context < 0 {
		return diff.Options{}, &exitError{code: exitUsage, err: fmt.Errorf("--unified %d: want 0 or more", f.context)}
	}
	ctx := f.context
	if ctx == 0 {
		ctx = -1 // diff.Options: 0 is the default, negative none
	}
	return diff.Options{Noise: n, Context: ctx}, nil
}

// nonEmpty drops empty entries ("--skip-kinds=a,,b", "--strip-labels=").
func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func newDiffCmd(s streams, getenv env) *cobra.Command {
	var rf repoFlags
	var df diffFlags
	var kf kubeFlags
	var nf noiseFlags
	var sf selectFlags
	var output, outputFile string
	var exitCode, live bool
	var maxBytes int
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what changes between two revisions, object by object",
		Long: `Build the base revision and the head revision (the worktree when --head is
omitted) straight from Git objects, and compare what every cluster path builds
to: objects added, removed, changed (unified YAML diff) or moved between
Kustomizations, Kustomizations and HelmReleases added or removed, cluster paths
added or removed. Secret values are never shown: Secrets are compared key by
key. Only the Kustomizations a changed file reaches are rebuilt.

With --live, the head build is compared with the cluster instead: a server-side
dry-run against the live objects, and the objects that would be pruned. With
--live and --base, drift is reported too: objects whose live state differs from
what the base revision would apply (changed in the cluster by hand).

With --exit-code: exit 0 when nothing changes, 3 when something does, 1 on
errors (a build error in either revision included).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "text", "markdown", "json", "html":
			default:
				return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text, markdown, json or html", output)}
			}
			if df.base == "" && !live {
				return &exitError{code: exitUsage, err: fmt.Errorf("--base is required (or --live to compare with the cluster)")}
			}
			opts, err := df.runOptions(&rf, getenv)
			if err != nil {
				return err
			}
			if opts.Compare, err = nf.compareOptions(); err != nil {
				return err
			}
			if opts.Select, err = sf.selection(); err != nil {
				return err
			}
			ctx := cmd.Context()
			var res *diff.Result
			if live {
				res, err = liveDiff(ctx, opts, &kf, s, getenv)
			} else {
				res, _, err = diff.Run(ctx, opts)
			}
			if err != nil {
				return usageIfUnknown(err)
			}
			var out io.Writer = s.out
			var buf bytes.Buffer
			if outputFile != "" {
				out = &buf
			}
			switch output {
			case "json":
				err = report.DiffJSON(out, res)
			case "markdown":
				err = report.DiffMarkdown(out, res, report.MarkdownOptions{MaxBytes: maxBytes})
			case "html":
				err = report.HTML(out, report.HTMLOptions{Diff: res})
			default:
				err = report.DiffText(out, res, report.DiffTextOptions{Color: outputFile == "" && writesToTerminal(s.out)})
			}
			if err != nil {
				return err
			}
			if outputFile != "" {
				if err := os.WriteFile(outputFile, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", outputFile, err)
				}
			}
			// The exit code follows what the change broke: errors the base
			// already had are reported, not held against it.
			if res.HasNewErrors() {
				if outputFile != "" || output != "text" {
					// The errors are in the output; repeat them where a
					// CI log shows them.
					for _, cd := range res.Clusters {
						for _, e := range cd.Errors {
							fmt.Fprintf(s.err, "%s (%s): %s\n", cd.Path, e.Revision, report.FindingLine(e.Finding))
						}
					}
				}
				return &exitError{code: exitFailed, err: fmt.Errorf("build errors: see above")}
			}
			if exitCode && res.HasChanges() {
				return &exitError{code: exitChanges}
			}
			return nil
		},
	}
	rf.register(cmd)
	rf.registerKubeVersion(cmd)
	df.register(cmd, "head revision (default: the worktree as it is)")
	kf.register(cmd)
	nf.register(cmd)
	sf.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "text", "output format: text, markdown, json or html (one self-contained page)")
	fl.StringVar(&outputFile, "output-file", "", "write the diff to this file instead of standard output")
	fl.BoolVar(&exitCode, "exit-code", false, "exit 3 when something changes, 0 when nothing does (1 on errors, 2 on usage errors)")
	fl.BoolVar(&live, "live", false, "compare the head build with the cluster instead of the base revision (server-side dry-run, prune)")
	fl.IntVar(&maxBytes, "max-bytes", report.GitHubCommentLimit, "-o markdown: cut the diff to this many bytes, riskiest changes first")
	return cmd
}

// writesToTerminal reports whether w is a character device (a terminal),
// where colours help; pipes and files get plain text.
func writesToTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// liveDiff connects as the kubeconfig and --auth flags say and runs the live diff
// engine (diff.RunLive) there.
func liveDiff(ctx context.Context, opts diff.RunOptions, kf *kubeFlags, s streams, getenv env) (*diff.Result, error) {
	cluster, err := kf.connect(ctx, s, getenv)
	if err != nil {
		return nil, err
	}
	return diff.RunLive(ctx, diff.LiveOptions{RunOptions: opts, Cluster: cluster})
}
