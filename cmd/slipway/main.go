// Command slipway builds, validates and deploys Flux-style GitOps
// repositories, from a terminal or as a GitHub Action.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { os.Exit(runMain()) }

// runMain is main up to the exit, so tests can run slipway in a child
// process and measure it before it exits.
func runMain() int {
	tuneGC(os.Getenv)
	// One context per signal, so the exit code can say which arrived
	// without reading the cancellation cause's text.
	interrupted, stopInt := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, stopTerm := signal.NotifyContext(interrupted, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv, func(err error) { _, _ = os.Stderr.WriteString(err.Error() + "\n") })
	go forceExit(ctx, interrupted, stopGrace(os.Args[1:]))
	code := run(ctx, os.Args[1:], streams{out: os.Stdout, err: os.Stderr, in: os.Stdin}, os.Getenv)
	code = signalExitCode(code, interrupted.Err() != nil, ctx.Err() != nil)
	stopProfile()
	stopTerm()
	stopInt()
	return code
}

// stopGrace is how long a command may take to stop after a signal before
// the process exits regardless. Every stage checks the context between
// steps, but one step (kustomize building a large Kustomization, Helm
// rendering a chart) does not look at it: a person pressing Ctrl-C must
// not wait for it. Commands that change a cluster get longer, to release
// the lock and record what they did (a deploy killed mid-step converges on
// the next run: its inventory was written before anything was applied);
// the action gets what GitHub's runner allows before it kills the step
// (7.5 s after SIGINT), to complete its check runs as cancelled.
func stopGrace(args []string) time.Duration {
	if len(args) == 0 {
		return 2 * time.Second
	}
	switch args[0] {
	case "action":
		return 7 * time.Second
	case "apply", "reconcile", "uninstall", "bootstrap":
		return 5 * time.Second
	}
	return 2 * time.Second
}

// forceExit ends the process grace after a signal cancelled ctx, unless
// run returned first (main exits then).
func forceExit(ctx, interrupted context.Context, grace time.Duration) {
	<-ctx.Done()
	time.Sleep(grace)
	_, _ = os.Stderr.WriteString("✗ stopped: the current step did not finish within " + grace.String() + " of the signal\n")
	os.Exit(signalExitCode(exitFailed, interrupted.Err() != nil, true))
}

// signalExitCode is code unless a signal cancelled the run: a command
// stops starting work on SIGINT or SIGTERM, reports what it has (the
// action completes its check runs as cancelled) and exits with the
// signal's code.
func signalExitCode(code int, interrupted, cancelled bool) int {
	switch {
	case interrupted:
		return exitInterrupted
	case cancelled:
		return exitTerminated
	}
	return code
}

// tuneGC trades some memory for CPU: a build allocates heavily (kustomize
// renders and re-parses YAML), and collecting at 3x the live heap instead
// of 2x (GOGC=200) cuts about a sixth of the CPU time of validating the
// 3300-object benchmark fleet, for a peak of ~270 MiB instead of ~200
// (GOGC=400 would save more CPU but pass 300 MiB, the memory target). The
// soft memory limit makes the collector work harder before a big
// repository could exhaust a CI runner. GOGC and GOMEMLIMIT, when set, win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
}
