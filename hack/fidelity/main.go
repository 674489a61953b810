// Command fidelity compares slipway's build with the Flux CLI's, object
// by object, over the repositories in testdata (or the ones named on the
// command line), and exits non-zero on any unexplained difference.
//
// Usage:
//
//	go run ./hack/fidelity [-flux PATH] [-slipway bin/slipway] [-expect FILE] [REPO...]
//
// The Flux CLI (v2.9.5) is built from the Go module proxy the first time
// and cached under ~/.cache/slipway/flux/v2.9.5/flux. For every
// Kustomization slipway builds from this repository, the harness runs
// `flux build ks NAME --path DIR --kustomization-file F --dry-run` on the
// same Kustomization object (what `--recursive` does for each one it
// meets), so a Kustomization Flux cannot build locally does not hide the
// others. The logic that pairs and classifies objects is in ./compare.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/hack/fidelity/compare"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fidelity:", err)
		stop()
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	flux, slipway, expect string
	parallel              int
	repos                 []string
}

// errUnexplained is returned when a repository has unexplained differences.
var errUnexplained = errors.New("unexplained differences from the Flux CLI")

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := ensureFlux(ctx, o.flux, out); err != nil {
		return err
	}
	targets, err := targetsOf(o)
	if err != nil {
		return err
	}
	failed := false
	for _, t := range targets {
		rep, err := checkRepo(ctx, o, t)
		if err != nil {
			return fmt.Errorf("%s: %w", t.repo, err)
		}
		printReport(out, rep)
		failed = failed || !rep.OK()
	}
	if failed {
		return errUnexplained
	}
	return nil
}

func parseFlags(args []string) (options, error) {
	var o options
	home, err := os.UserHomeDir()
	if err != nil {
		return o, err
	}
	fs := flag.NewFlagSet("fidelity", flag.ContinueOnError)
	fs.StringVar(&o.flux, "flux", filepath.Join(home, ".cache", "slipway", "flux", fluxVersion, "flux"), "the Flux CLI (built from the Go module proxy when absent)")
	fs.StringVar(&o.slipway, "slipway", "bin/slipway", "the slipway binary")
	fs.StringVar(&o.expect, "expect", "", "expectations file for the repositories given (default: REPO/../fidelity.yaml when REPO ends in /repo)")
	fs.IntVar(&o.parallel, "j", 2, "Flux CLI builds run at once")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.repos = fs.Args()
	return o, nil
}

// target is one repository and its expectations file ("" for none).
type target struct{ repo, expect string }

// targetsOf lists the repositories: those given, else every fixture in
// testdata/fidelity and the example fleet.
func targetsOf(o options) ([]target, error) {
	if len(o.repos) > 0 {
		var out []target
		for _, r := range o.repos {
			e := o.expect
			if e == "" && filepath.Base(filepath.Clean(r)) == "repo" {
				e = existing(filepath.Join(filepath.Dir(filepath.Clean(r)), "fidelity.yaml"))
			}
			out = append(out, target{repo: r, expect: e})
		}
		return out, nil
	}
	cases, err := filepath.Glob(filepath.Join("testdata", "fidelity", "*", "repo"))
	if err != nil {
		return nil, err
	}
	if len(cases) == 0 {
		return nil, errors.New("no testdata/fidelity/*/repo: run from the project's root")
	}
	sort.Strings(cases)
	var out []target
	for _, c := range cases {
		out = append(out, target{repo: c, expect: existing(filepath.Join(filepath.Dir(c), "fidelity.yaml"))})
	}
	out = append(out, target{repo: filepath.Join("testdata", "fleet"), expect: existing(filepath.Join("testdata", "fidelity", "fleet.yaml"))})
	return out, nil
}

func existing(p string) string {
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func printReport(w io.Writer, r *repoReport) {
	fmt.Fprintf(w, "%s (slipway %.2fs; Flux CLI %.2fs over %d builds)\n", r.Summary(), r.slipway.Seconds(), r.flux.Seconds(), r.fluxRuns)
	for _, l := range r.ExplainedLines() {
		fmt.Fprintln(w, "  explained", l)
	}
	for _, l := range r.bothFail {
		fmt.Fprintln(w, "  =", l)
	}
	for _, l := range r.Lines {
		mark := "!"
		if strings.Contains(l, string(compare.NotCompared)) {
			mark = "-"
		}
		fmt.Fprintln(w, " ", mark, l)
	}
	for _, e := range r.Stale {
		fmt.Fprintf(w, "  ! stale expectation: %s %s %s %s (%s)\n", e.Path, e.Kustomization, e.Outcome, e.Object, e.Reason)
	}
}

// repoReport is a repository's comparison and timings.
type repoReport struct {
	*compare.Report
	slipway, flux time.Duration
	fluxRuns      int
	// bothFail lists the Kustomizations neither tool could build.
	bothFail []string
}
