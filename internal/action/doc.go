// Package action is `slipway action`, the entrypoint of slipway's GitHub
// Action: it reads the action's inputs and the event that started the
// workflow, decides what to do (validate, diff, deploy), runs slipway's
// pipeline, and reports the one result to GitHub five ways: commit checks
// (or commit statuses when the token may not create checks), pull request
// comments updated in place, workflow-command annotations, the job summary
// and step outputs.
//
// Every secret value (the token, kubeconfig credentials, the age key,
// values that came from Secrets) is registered with the runner before
// anything is printed, and everything rendered goes through report's
// masker. Reporting never decides a deploy: GitHub refusing or
// rate-limiting a report becomes a warning, and the exit code says only
// whether validation or the deploy failed (or the run was cancelled).
// Every check run started is ended, whatever GitHub refuses (checks.go):
// left in progress, a required check would block merging. A cancelled
// context (the workflow run was cancelled) starts no further work and
// completes the open check runs as cancelled on a short-lived context of
// their own (cancel.go).
//
// The package reads its environment only through Options.Getenv and writes
// only to Options.Stdout and the files the runner names.
package action
