#!/usr/bin/env bash
# Benchmark the GitHub Action as the runner runs it (`slipway action`, the
# step's environment and files, no GitHub API) on a pull request of a
# synthetic fleet that changes one file of a base every cluster uses:
# with an empty cache-dir, and with the cache-dir a run on the base
# revision left (what actions/cache restores from the base branch).
#
# Usage: hack/bench/action.sh [clusters=3] [kustomizations=100] [objects=10]
# Prints a markdown table; set BENCH_KEEP=1 to keep the temporary directory.
set -euo pipefail
clusters=${1:-3}
kustomizations=${2:-100}
objects=${3:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=lib.sh
. hack/bench/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-action.XXXXXX")
cleanup() { if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
fleet=$tmp/fleet
git_() { git -C "$fleet" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false "$@"; }

build_slipway "$tmp/slipway"
log "generating a ${clusters}x${kustomizations}x${objects} fleet"
go run ./hack/fleetgen -out "$fleet" -clusters "$clusters" -kustomizations "$kustomizations" -objects "$objects" >/dev/null
git init -q -b main "$fleet"
git_ add -A && git_ commit -q -m base
base=$(git_ rev-parse HEAD)
sed -i '0,/^data:/{/^data:/a\  changed-by-bench: "yes"
}' "$fleet/apps/app-000/base/configmap.yaml"
git_ commit -q -am "change a shared base"
head=$(git_ rev-parse HEAD)
git_ gc -q

# step EVENT PAYLOAD CACHE: one `slipway action` step; prints its wall time
# and its CPU time (user + system), which a busy machine disturbs less.
step() {
	local event=$1 payload=$2 cache=$3 dir
	dir=$(mktemp -d "$tmp/step.XXXXXX")
	printf '%s' "$payload" >"$dir/event.json"
	: >"$dir/output" && : >"$dir/summary"
	local t0 t1
	t0=$(date +%s.%N)
	(cd "$fleet" && env -i PATH="$PATH" HOME="$HOME" \
		GITHUB_EVENT_NAME="$event" GITHUB_EVENT_PATH="$dir/event.json" GITHUB_WORKSPACE="$fleet" \
		GITHUB_REPOSITORY=acme/fleet GITHUB_SHA="$head" GITHUB_RUN_ID=1 \
		GITHUB_OUTPUT="$dir/output" GITHUB_STEP_SUMMARY="$dir/summary" \
		INPUT_MODE="${MODE:-auto}" INPUT_CACHE-DIR="$cache" \
		/usr/bin/time -f "%U %S" -o "$dir/cpu" "$tmp/slipway" action >"$dir/log" 2>&1) || { echo "$0: the $event step failed:" >&2; tail -n 20 "$dir/log" >&2; exit 1; }
	t1=$(date +%s.%N)
	grep -q '^changed<<' "$dir/output" || { echo "$0: no outputs written" >&2; exit 1; }
	awk -v wall="$(awk "BEGIN { print $t1 - $t0 }")" '{ printf "%.2f %.2f", wall, $1 + $2 }' "$dir/cpu"
}
pr='{"action":"synchronize","number":1,"pull_request":{"number":1,"head":{"sha":"'$head'","repo":{"full_name":"acme/fleet"}},"base":{"sha":"'$base'","ref":"main","repo":{"full_name":"acme/fleet"}}}}'

log "pull request, empty cache"
cold=$(step pull_request "$pr" "$tmp/cache-cold")
log "the base branch's last run (fills the cache actions/cache would restore)"
git_ checkout -q "$base"
MODE=validate step workflow_dispatch '{"inputs":{}}' "$tmp/cache-warm" >/dev/null
git_ checkout -q main
log "pull request, restored cache"
warm=$(step pull_request "$pr" "$tmp/cache-warm")

read -r cold_wall cold_cpu <<<"$cold"
read -r warm_wall warm_cpu <<<"$warm"
echo "| ${clusters}x${kustomizations}x${objects} fleet, pull request (validate + offline diff) | wall | CPU |"
echo "|---|---:|---:|"
echo "| empty cache-dir | ${cold_wall} s | ${cold_cpu} s |"
echo "| cache-dir restored from the base branch's run | ${warm_wall} s | ${warm_cpu} s |"
awk "BEGIN { printf \"| speed-up | %.1fx | %.1fx |\n\", $cold_wall / $warm_wall, $cold_cpu / $warm_cpu }"
