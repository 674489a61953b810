#!/usr/bin/env bash
# Refreshes internal/github/testdata/webhooks from GitHub's published example
# webhook payloads (the npm package @octokit/webhooks-examples). Tests read
# the vendored copies; nothing is downloaded at test time.
#
# Usage: hack/webhooks/update.sh [version]   (default: the version in the README)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${here}/../../internal/github/testdata/webhooks"
version="${1:-7.6.1}"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
(cd "${tmp}" && npm pack --silent "@octokit/webhooks-examples@${version}" >/dev/null && tar xzf ./*.tgz)
python3 - "${tmp}/package/api.github.com/index.json" "${out}" <<'PY'
import json, os, sys
index, out = sys.argv[1], sys.argv[2]
ex = {e["name"]: e["examples"] for e in json.load(open(index))}
def first(name, pred=lambda p: True):
    return next(p for p in ex[name] if pred(p))
pick = {
    "merge_group.checks_requested.json": first("merge_group", lambda p: p["action"] == "checks_requested"),
    "push.tag-created.json": first("push", lambda p: p["ref"].startswith("refs/tags/") and p["created"]),
    "push.branch-created.json": first("push", lambda p: p["ref"].startswith("refs/heads/") and p["created"]),
    "push.tag-deleted.json": first("push", lambda p: p["ref"].startswith("refs/tags/") and p["deleted"]),
    "pull_request.opened.json": first("pull_request", lambda p: p["action"] == "opened"),
    "workflow_dispatch.json": first("workflow_dispatch"),
}
os.makedirs(out, exist_ok=True)
for name, payload in pick.items():
    with open(os.path.join(out, name), "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
PY
echo "updated ${out} from @octokit/webhooks-examples@${version}"
