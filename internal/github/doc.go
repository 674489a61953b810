// Package github is slipway's small layer over the GitHub REST API
// (go-github) and the GitHub Actions runtime: reading the event that
// started a workflow, check runs, commit statuses, pull request comments,
// workflow commands, step outputs and the job summary.
//
// GitHub's documented limits are named constants here (limits.go) and every
// text sent is cut to fit them, by bytes on UTF-8 boundaries, with a note,
// so a large result degrades into a shorter report instead of a 422.
// Rate limits (primary and secondary, 403 or 429) are waited out as GitHub
// asks, within a budget shared by all of a Client's requests; after a few
// server errors or unanswered requests in a row the Client stops calling
// GitHub and fails fast. A check run's completion falls back to a short
// summary when the full report is refused. Reporting must never be the
// reason a deploy fails, so callers get typed errors (APIError,
// RateLimitedError, UnavailableError, AnnotationsError) they can downgrade
// to warnings.
//
// The package renders nothing of slipway's result model (internal/action
// does) and never sees secret values other than the API token.
package github
