// Package githubtest is an in-process fake of the GitHub REST API endpoints
// slipway uses — check runs, commit statuses, issue comments — for tests.
//
// It is strict where GitHub is strict: requests without a known token get
// 401; a token without the needed permission gets 403 (as a fork pull
// request's read-only token does); bodies over GitHub's documented limits,
// more than 50 annotations in one request, unknown conclusions or missing
// required fields get 422. It can answer the next requests with a
// secondary rate limit (403 + Retry-After). Every request is recorded, so
// tests can assert on what was sent, including that no secret was.
//
// It is test infrastructure: import it only from _test.go files.
package githubtest
