package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/slipwayhq/slipway/internal/deploy"
)

// registerDeployFlags registers the deploy options apply and reconcile
// share, so that both commands name and document them alike.
func registerDeployFlags(fl *pflag.FlagSet, opts *deploy.Options) {
	fl.BoolVar(&opts.Prune, "prune", opts.Prune, "delete objects removed from a Kustomization (when its spec.prune allows)")
	fl.BoolVar(&opts.Wait, "wait", opts.Wait, "wait for every applied object to be ready (default: as spec.wait and spec.healthChecks say)")
	fl.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "per-Kustomization timeout when spec.timeout is not set")
	fl.DurationVar(&opts.LockWait, "lock-wait", opts.LockWait, "how long to wait for another deploy of the same cluster path")
	fl.DurationVar(&opts.LockTTL, "lock-ttl", opts.LockTTL, "how long the lock of a run that died without releasing it blocks other runs (at least 1s)")
}

// checkDeployFlags refuses deploy options no deploy can run with, and an
// output format other than text or json.
func checkDeployFlags(opts deploy.Options, output string) error {
	if output != "text" && output != "json" {
		return &exitError{code: exitUsage, err: fmt.Errorf("-o %s: want text or json", output)}
	}
	if opts.LockTTL < time.Second {
		return &exitError{code: exitUsage, err: fmt.Errorf("--lock-ttl %s: want at least 1s", opts.LockTTL)}
	}
	return nil
}
