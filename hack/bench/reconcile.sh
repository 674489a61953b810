#!/usr/bin/env bash
# Scheduled reconcile benchmark: the GitHub Action as the runner runs it
# (`slipway action`, the step's environment and files, no GitHub API) on a
# fresh local cluster and a generated fleet committed to Git:
#   1. push (first deploy), 2. push again (today's no-op deploy through the
#   action), 3. schedule (reconcile of the recorded revision, nothing drifted),
#   4. `slipway apply` no-op (the CLI's no-op deploy, for reference),
#   5. `slipway reconcile` (the same engine as 3, from the CLI).
# Wall time and API requests per step (the summary's deploy row: the deploy's
# requests; a reconcile also reads the deploy record, one GET, not counted
# there).
#
# Usage: hack/bench/reconcile.sh [kustomizations=50] [objects=20] [repeats=3]
set -euo pipefail
ks=${1:-50}
objs=${2:-20}
repeats=${3:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=lib.sh
. hack/bench/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-reconcile.XXXXXX")
cluster=bench-reconcile-$$
cleanup() {
	hack/cluster/down.sh "$cluster" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fleet=$tmp/fleet
path=clusters/cluster-00

build_slipway "$tmp/slipway"
head=$(committed_fleet "$fleet" "$ks" "$objs")
log "starting a local cluster"
kc=$(hack/cluster/up.sh "$cluster" 2>/dev/null | tail -n 1)

# step EVENT PAYLOAD: one `slipway action` step; prints "wall requests".
step() {
	local event=$1 payload=$2 dir t0 t1
	dir=$(mktemp -d "$tmp/step.XXXXXX")
	printf '%s' "$payload" >"$dir/event.json"
	: >"$dir/output" && : >"$dir/summary"
	t0=$(date +%s.%N)
	(cd "$fleet" && env -i PATH="$PATH" HOME="$HOME" \
		GITHUB_EVENT_NAME="$event" GITHUB_EVENT_PATH="$dir/event.json" GITHUB_WORKSPACE="$fleet" \
		GITHUB_REPOSITORY=acme/fleet GITHUB_SHA="$head" GITHUB_RUN_ID=1 \
		GITHUB_OUTPUT="$dir/output" GITHUB_STEP_SUMMARY="$dir/summary" \
		INPUT_PATH="$path" INPUT_KUBECONFIG="$(cat "$kc")" INPUT_CACHE-DIR="$tmp/cache" \
		"$tmp/slipway" action >"$dir/log" 2>&1) || { echo "$0: the $event step failed:" >&2; tail -n 30 "$dir/log" >&2; exit 1; }
	t1=$(date +%s.%N)
	local req
	req=$(sed -n 's/^| Deploy | .*, \([0-9]*\) API requests |$/\1/p' "$dir/summary" | head -n 1)
	[[ -n $req ]] || { echo "$0: no deploy row in the $event summary:" >&2; cat "$dir/summary" >&2; exit 1; }
	awk -v wall="$(awk "BEGIN { print $t1 - $t0 }")" -v req="$req" 'BEGIN { printf "%.2f %s", wall, req }'
}
cli_noop() {
	local t0 t1 out
	t0=$(date +%s.%N)
	out=$("$tmp/slipway" apply --repo "$fleet" --path "$path" --kubeconfig "$kc" --cache-dir "$tmp/cache-cli" -o json 2>"$tmp/cli.log") ||
		{ echo "$0: slipway apply failed:" >&2; tail -n 20 "$tmp/cli.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v wall="$(awk "BEGIN { print $t1 - $t0 }")" -v req="$(echo "$out" | python3 -c "import json,sys;print(json.load(sys.stdin)[0]['apiRequests'])")" 'BEGIN { printf "%.2f %s", wall, req }'
}

cli_reconcile() {
	local t0 t1 out
	t0=$(date +%s.%N)
	out=$("$tmp/slipway" reconcile --repo "$fleet" --kubeconfig "$kc" --cache-dir "$tmp/cache-cli" -o json "$path" 2>"$tmp/cli.log") ||
		{ echo "$0: slipway reconcile failed:" >&2; tail -n 20 "$tmp/cli.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v wall="$(awk "BEGIN { print $t1 - $t0 }")" -v req="$(echo "$out" | python3 -c "import json,sys;print(json.load(sys.stdin)['paths'][0]['deploy']['apiRequests'])")" 'BEGIN { printf "%.2f %s", wall, req }'
}

push='{"ref":"refs/heads/main","before":"'$head'","after":"'$head'"}'
first='{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":"'$head'"}'
log "first deploy"
read -r w0 r0 <<<"$(step push "$first")"
cli_noop >/dev/null # fills the CLI's build cache
echo "Fleet: 1x${ks}x${objs}; machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the start; first deploy ${w0} s (${r0} requests)."
echo
echo "| run | push no-op deploy (action) | scheduled reconcile, nothing drifted (action) | \`slipway apply\` no-op (CLI) | \`slipway reconcile\`, nothing drifted (CLI) |"
echo "|---|---:|---:|---:|---:|"
for i in $(seq 1 "$repeats"); do
	read -r pw pr <<<"$(step push "$push")"
	read -r sw sr <<<"$(step schedule '{"schedule":"*/30 * * * *"}')"
	read -r cw cr <<<"$(cli_noop)"
	read -r rw rr <<<"$(cli_reconcile)"
	echo "| $i (load $(cut -d' ' -f1 /proc/loadavg)) | ${pw} s (${pr}) | ${sw} s (${sr}) | ${cw} s (${cr}) | ${rw} s (${rr}) |"
done
