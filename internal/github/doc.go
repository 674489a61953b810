// Package github is slipway's small layer over the GitHub REST API
// (go-github) and the GitHub Actions runtime: reading the event that
// started a workflow, check runs, commit statuses, pull request comments,
// workflow commands, step outputs and the job summary.
//
// GitHub's documented limits are named constants here (limits.go) and every
// text sent is cut to fit them with a note, so a large result degrades into
// a shorter report instead of a 422. Rate-limit answers are retried a
// bounded number of times honouring Retry-After; reporting must never be
// the reason a deploy fails, so callers get typed errors they can downgrade
// to warnings.
//
// The package renders nothing of slipway's result model (internal/action
// does) and never sees secret values other than the API token.
package github
