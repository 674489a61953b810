package main

import "syscall"

// Exit codes, the same for every command (README.md, "Exit codes"). Each
// outcome has its own number, so a script can tell "something changes"
// from "the command line was wrong" and "a newer commit is deployed" from
// "the deploy failed".
const (
	// exitOK: the command did what was asked and found nothing wrong.
	exitOK = 0
	// exitFailed: validation errors, a failed build, deploy or uninstall.
	exitFailed = 1
	// exitUsage: the command line was wrong (bad flag value, missing flag).
	exitUsage = 2
	// exitChanges: diff --exit-code found changes; reconcile --drift-only
	// found drift.
	exitChanges = 3
	// exitOutOfOrder: apply refused a commit older than the one the cluster
	// path runs (see --allow-rollback); nothing was changed.
	exitOutOfOrder = 4
	// exitInterrupted and exitTerminated: a signal stopped the run, 128 +
	// the signal's number as shells report them, so the runner and scripts
	// see an interrupted run, not a failed one.
	exitInterrupted = 128 + int(syscall.SIGINT)
	exitTerminated  = 128 + int(syscall.SIGTERM)
)
