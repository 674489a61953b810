#!/usr/bin/env bash
# Benchmark `slipway diff` and `slipway plan` on a synthetic fleet after a
# one-file change to a base every cluster uses, against what a script does
# without slipway: check both revisions out, `kubectl kustomize` every
# Kustomization directory of each, and `diff -r` the outputs. slipway is
# measured four ways: two full builds (no cache), incremental with an empty
# build cache, incremental with the cache a `slipway validate` of the base
# revision left (what CI's actions/cache restores from the last run on the
# base branch), and `plan`, whose CPU time (user+system) is reported.
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
# Packed, as a CI checkout (fetched pack) is: go-git reads loose objects
# one file each.
git_ gc -q

now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }
run() { # label, command...
	local label=$1; shift
	local t0 t1 rc=0
	t0=$(now); /usr/bin/time -f %U+%S -o "$tmp/$label.cpu" "$@" >"$tmp/$label.out" 2>"$tmp/$label.err" || rc=$?; t1=$(now)
	# diff --exit-code style: 2 means "changes", which is expected here.
	if [[ $rc -ne 0 && $rc -ne 2 ]]; then echo "$0: $label failed ($rc):" >&2; tail -n 20 "$tmp/$label.err" >&2; exit 1; fi
	secs "$t0" "$t1"
}
cpu() { awk "BEGIN { printf \"%.2f\", $(tail -n 1 "$tmp/$1.cpu") }"; }

sw=("$tmp/slipway")
revs=(--repo "$fleet" --base HEAD~1 --head HEAD)
# Full: both revisions built from scratch, nothing reused.
s_full=$(run full "${sw[@]}" diff "${revs[@]}" --exit-code --full --no-build-cache)
# Incremental, cold: an empty build cache; the base is built fully, the
# head reuses the base.
s_cold=$(run cold "${sw[@]}" diff "${revs[@]}" --exit-code --cache-dir "$tmp/cache-cold")
# Incremental, warm: the cache a `slipway validate` of the base revision
# left, as the last CI run on the base branch leaves it (actions/cache).
git_ checkout -q HEAD~1
run warmup "${sw[@]}" validate --repo "$fleet" --cache-dir "$tmp/cache-warm" >/dev/null
git_ checkout -q main
s_warm=$(run warm "${sw[@]}" diff "${revs[@]}" --exit-code --cache-dir "$tmp/cache-warm")
# plan, cold and then warm (the cache the warm diff left).
s_plan_cold=$(run plan-cold "${sw[@]}" plan "${revs[@]}" --cache-dir "$tmp/cache-plan")
s_plan=$(run plan "${sw[@]}" plan "${revs[@]}" --cache-dir "$tmp/cache-warm")
cmp -s "$tmp/cold.out" "$tmp/full.out" || { echo "$0: the incremental diff differs from the full one" >&2; exit 1; }
cmp -s "$tmp/warm.out" "$tmp/full.out" || { echo "$0: the warm-cache diff differs from the full one" >&2; exit 1; }

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
export -f baseline
export tmp fleet kubectl
b=$(run baseline bash -c baseline)

paths=$(cat "$tmp/plan.out")
echo "| step | wall s | CPU s |"
echo "|---|---:|---:|"
echo "| \`slipway diff --full --no-build-cache\` (two full builds) | $s_full | $(cpu full) |"
echo "| \`slipway diff\`, cold build cache | $s_cold | $(cpu cold) |"
echo "| \`slipway diff\`, warm build cache (\`slipway validate\` of the base filled it) | $s_warm | $(cpu warm) |"
echo "| \`slipway plan\`, cold build cache | $s_plan_cold | $(cpu plan-cold) |"
echo "| \`slipway plan\`, warm build cache (changed paths: $paths) | $s_plan | $(cpu plan) |"
echo "| worktrees + \`kubectl kustomize\` × every directory × 2 + \`diff -r\` | $b | $(cpu baseline) |"
awk "BEGIN { printf \"\nspeed-up over two full builds: cold %.1fx, warm %.1fx; over the script: warm %.1fx\n\", $s_full / $s_cold, $s_full / $s_warm, $b / $s_warm }"
