#!/usr/bin/env bash
# Benchmark a push's no-op deploy through the GitHub Action (`slipway
# action`, the step's environment and files, no GitHub API) against the
# CLI's (`slipway apply`), on one local cluster, runs interleaved so that
# load on the machine hits both alike. Both keep a build cache between runs,
# as actions/cache keeps the action's between CI runs.
#
# Usage: hack/bench/action-deploy.sh [kustomizations=50] [objects=20] [runs=5]
# Prints a markdown table (medians) to stdout.
set -euo pipefail
ks=${1:-50}
objs=${2:-20}
runs=${3:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=lib.sh
. hack/bench/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-action-deploy.XXXXXX")
cluster=bench-action-$$
cleanup() {
	hack/cluster/down.sh "$cluster" >/dev/null 2>&1 || true
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fleet=$tmp/fleet
path=clusters/cluster-00

build_slipway "$tmp/slipway"
sha=$(committed_fleet "$fleet" "$ks" "$objs")
log "starting the local cluster"
kc=$(hack/cluster/up.sh "$cluster" 2>/dev/null | tail -n 1)

# timed CMD...: runs CMD, prints "wall cpu" (CPU = user + system).
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$tmp/cpu" "$@" >"$tmp/log" 2>&1 || { echo "$0: $1 failed:" >&2; tail -n 20 "$tmp/log" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v wall="$(awk "BEGIN { print $t1 - $t0 }")" '{ printf "%.2f %.2f\n", wall, $1 + $2 }' "$tmp/cpu"
}
cli() {
	timed "$tmp/slipway" apply --repo "$fleet" --path "$path" --kubeconfig "$kc" --cache-dir "$tmp/cache-cli"
}
action() {
	local dir=$tmp/step
	rm -rf "$dir" && mkdir -p "$dir"
	printf '{"ref":"refs/heads/main","after":"%s","repository":{"full_name":"acme/fleet","default_branch":"main"}}' "$sha" >"$dir/event.json"
	: >"$dir/output" && : >"$dir/summary"
	(cd "$fleet" && timed env -i PATH="$PATH" HOME="$HOME" \
		GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH="$dir/event.json" GITHUB_WORKSPACE="$fleet" \
		GITHUB_REPOSITORY=acme/fleet GITHUB_SHA="$sha" GITHUB_REF=refs/heads/main GITHUB_RUN_ID=1 \
		GITHUB_OUTPUT="$dir/output" GITHUB_STEP_SUMMARY="$dir/summary" \
		INPUT_MODE=deploy INPUT_PATH="$path" INPUT_KUBECONFIG="$(cat "$kc")" INPUT_CACHE-DIR="$tmp/cache-action" \
		"$tmp/slipway" action)
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

log "first deploy (CLI), then one no-op run of each to fill both caches"
cli >/dev/null
cli >/dev/null
action >/dev/null
: >"$tmp/cli.txt" && : >"$tmp/action.txt"
for i in $(seq "$runs"); do
	log "no-op deploy, run $i of $runs"
	cli >>"$tmp/cli.txt"
	action >>"$tmp/action.txt"
done
cw=$(cut -d' ' -f1 "$tmp/cli.txt" | median) cc=$(cut -d' ' -f2 "$tmp/cli.txt" | median)
aw=$(cut -d' ' -f1 "$tmp/action.txt" | median) ac=$(cut -d' ' -f2 "$tmp/action.txt" | median)
echo "| 1x${ks}x${objs} fleet, push no-op deploy (median of $runs) | wall | CPU |"
echo "|---|---:|---:|"
echo "| CLI: slipway apply | ${cw} s | ${cc} s |"
echo "| action: slipway action (push, mode deploy) | ${aw} s | ${ac} s |"
awk "BEGIN { printf \"| action / CLI | %.2f | %.2f |\n\", $aw / $cw, $ac / $cc }"
