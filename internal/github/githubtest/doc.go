// Package githubtest is an in-process fake of the GitHub REST API endpoints
// slipway uses — check runs, commit statuses, issue comments — for tests.
//
// It is strict where GitHub is strict: requests without a known token get
// 401; a token without the needed permission gets 403 (as a fork pull
// request's read-only token does); bodies over GitHub's documented limits,
// more than 50 annotations in one request, unknown conclusions or missing
// required fields get 422 — check-run texts are measured in bytes, as
// GitHub measures them — and the bodies of check-run, commit-status and
// comment requests are validated against GitHub's published OpenAPI
// description (testdata/openapi-requests.json, extracted by
// hack/githubschema), so a body of the wrong shape fails as it would on
// GitHub. Faults (faults.go) answer chosen requests, by
// method and path, with rate limits (primary, secondary, bare 429), server
// errors or refusals, or hold them unanswered. Every request is recorded,
// so tests can assert on what was sent, including that no secret was.
//
// It is test infrastructure: import it only from _test.go files.
package githubtest
