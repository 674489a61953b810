#!/usr/bin/env bash
# Benchmark `slipway diff` and `slipway plan` on a synthetic fleet after a
# one-file change to a base every cluster uses, against what a script does
# without slipway: check both revisions out, `kubectl kustomize` every
# Kustomization directory of each, and `diff -r` the outputs.
#
# Usage: hack/bench/diff.sh [clusters=3] [kustomizations=100] [objects=10]
# Prints a markdown table; set BENCH_KEEP=1 to keep the temporary directory.
set -euo pipefail
clusters=${1:-3}
kustomizations=${2:-100}
objects=${3:-10}
kubectl=${KUBECTL:-$(command -v kubectl || true)}
[[ -n $kubectl ]] || { echo "$0: kubectl not found (set KUBECTL)" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-diff.XXXXXX")
cleanup() { if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
fleet=$tmp/fleet
git_() { git -C "$fleet" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false "$@"; }

go build -o "$tmp/slipway" ./cmd/slipway
go run ./hack/fleetgen -out "$fleet" -clusters "$clusters" -kustomizations "$kustomizations" -objects "$objects" >/dev/null
git init -q -b main "$fleet"
git_ add -A && git_ commit -q -m base
# One value in a base shared by every cluster path.
sed -i '0,/^data:/{/^data:/a\  changed-by-bench: "yes"
}' "$fleet/apps/app-000/base/configmap.yaml"
git_ commit -q -am "change a shared base"

now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }
run() { # label, command...
	local label=$1; shift
	local t0 t1 rc=0
	t0=$(now); "$@" >"$tmp/$label.out" 2>"$tmp/$label.err" || rc=$?; t1=$(now)
	# diff --exit-code style: 2 means "changes", which is expected here.
	if [[ $rc -ne 0 && $rc -ne 2 ]]; then echo "$0: $label failed ($rc):" >&2; tail -n 20 "$tmp/$label.err" >&2; exit 1; fi
	secs "$t0" "$t1"
}

s_plan=$(run plan "$tmp/slipway" plan --repo "$fleet" --base HEAD~1 --head HEAD)
s_inc=$(run diff "$tmp/slipway" diff --repo "$fleet" --base HEAD~1 --head HEAD --exit-code)
s_full=$(run full "$tmp/slipway" diff --repo "$fleet" --base HEAD~1 --head HEAD --exit-code --full)

baseline() {
	cd "$fleet"
	for rev in base head; do
		git worktree add -q "$tmp/$rev" "$([[ $rev == base ]] && echo HEAD~1 || echo HEAD)"
		mkdir -p "$tmp/out-$rev"
		{ find "$tmp/$rev/apps" -mindepth 3 -maxdepth 3 -path '*/overlays/cluster-*' -type d
		  find "$tmp/$rev/clusters" -mindepth 1 -maxdepth 1 -type d; } | sort | while IFS= read -r d; do
			"$kubectl" kustomize "$d" >"$tmp/out-$rev/$(echo "${d#"$tmp/$rev/"}" | tr / _).yaml"
		done
	done
	diff -r "$tmp/out-base" "$tmp/out-head" >/dev/null || true
}
b=$(run baseline baseline)

paths=$(cat "$tmp/plan.out")
echo "| step | seconds |"
echo "|---|---:|"
echo "| \`slipway plan\` (changed paths: $paths) | $s_plan |"
echo "| \`slipway diff\` (incremental) | $s_inc |"
echo "| \`slipway diff --full\` | $s_full |"
echo "| worktrees + \`kubectl kustomize\` × every directory × 2 + \`diff -r\` | $b |"
awk "BEGIN { printf \"\nspeed-up of slipway diff over the script: %.1fx (plan: %.1fx)\n\", $b / $s_inc, $b / $s_plan }"
