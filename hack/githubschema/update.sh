#!/usr/bin/env bash
# Regenerates internal/github/githubtest/testdata/openapi-requests.json from
# the newest @octokit/openapi on the npm registry (GitHub's REST API
# description). Run from the repository root.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @octokit/openapi >/dev/null && tar xzf octokit-openapi-*.tgz)
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$tmp/package/package.json" | head -1)
go run ./hack/githubschema -spec "$tmp/package/generated/api.github.com.deref.json" -version "$version" \
	-out internal/github/githubtest/testdata/openapi-requests.json
