#!/usr/bin/env bash
# Benchmark `slipway validate` against the usual script-based baseline
# (`kubectl kustomize` over every Kustomization directory, one at a time)
# on a synthetic fleet produced by hack/fleetgen.
#
# Usage: hack/bench/validate.sh [clusters=3] [kustomizations=100] [objects=10]
#
# Environment:
#   BENCH_OUT   file that receives the raw figures as JSON (default /dev/null)
#   BENCH_SEED  fleetgen seed (default 1)
#   BENCH_KEEP  if 1, keep the temporary directory (binaries, fleet, logs)
#   KUBECTL     kubectl binary for the baseline (default: kubectl on PATH)
#   SLIPWAY_BIN prebuilt slipway binary to time instead of building ./cmd/slipway
#   GNU_TIME    GNU time binary (default /usr/bin/time)
set -euo pipefail

usage() {
	echo "usage: $0 [clusters=3] [kustomizations=100] [objects=10]" >&2
	exit 2
}

[[ $# -le 3 ]] || usage
clusters=${1:-3}
kustomizations=${2:-100}
objects=${3:-10}
for n in "$clusters" "$kustomizations" "$objects"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "$0: '$n' is not a positive integer" >&2; usage; }
done
seed=${BENCH_SEED:-1}
[[ $seed =~ ^[0-9]+$ ]] || { echo "$0: BENCH_SEED '$seed' is not a non-negative integer" >&2; exit 2; }
bench_out=${BENCH_OUT:-/dev/null}
gnu_time=${GNU_TIME:-/usr/bin/time}
kubectl=${KUBECTL:-$(command -v kubectl || true)}

[[ -x $gnu_time ]] || { echo "$0: GNU time not found at $gnu_time (set GNU_TIME)" >&2; exit 1; }
[[ -n $kubectl && -x $kubectl ]] || { echo "$0: kubectl not found (set KUBECTL)" >&2; exit 1; }
command -v go >/dev/null || { echo "$0: go not found on PATH" >&2; exit 1; }

# Run from the repository root (this script lives in hack/bench/).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
[[ -f go.mod ]] || { echo "$0: $root does not look like the repository root" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench.XXXXXX")
cleanup() {
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
fleet=$tmp/fleet

# shellcheck source=lib.sh
. "$root/hack/bench/lib.sh"

# --- 1. build -----------------------------------------------------------------
build_slipway "$tmp/slipway"
go build -o "$tmp/fleetgen" ./hack/fleetgen

# --- 2. generate the fleet ----------------------------------------------------
log "generating fleet: $clusters clusters x $kustomizations kustomizations x $objects objects (seed $seed)"
"$tmp/fleetgen" -out "$fleet" -clusters "$clusters" -kustomizations "$kustomizations" \
	-objects "$objects" -seed "$seed" >&2
git init -q -b main "$fleet" 2>/dev/null || git init -q "$fleet"
git -C "$fleet" add -A
git -C "$fleet" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false \
	commit -q --no-verify -m "synthetic fleet" ||
	log "warning: could not commit the fleet; continuing with an uncommitted work tree"

# Directories the baseline builds: every overlay plus every cluster root.
(
	cd "$fleet"
	find apps -mindepth 3 -maxdepth 3 -path 'apps/app-*/overlays/cluster-*' -type d
	find clusters -mindepth 1 -maxdepth 1 -name 'cluster-*' -type d
) | LC_ALL=C sort >"$tmp/dirs.txt"
builds=$(wc -l <"$tmp/dirs.txt")
builds=$((builds + 0))
total_objects=$((clusters * (kustomizations * objects + kustomizations + 4)))


# --- 3. slipway ---------------------------------------------------------------
log "timing: slipway validate --repo $fleet"
set +e
"$gnu_time" -v -o "$tmp/slipway.time" "$tmp/slipway" validate --repo "$fleet" >"$tmp/slipway.log" 2>&1
slipway_rc=$?
set -e
if [[ $slipway_rc -ne 0 ]]; then
	echo "$0: slipway validate exited with status $slipway_rc; last lines of its output:" >&2
	tail -n 30 "$tmp/slipway.log" >&2
	exit 1
fi
read -r s_wall s_user s_sys s_rss < <(parse_time "$tmp/slipway.time") ||
	{ echo "$0: could not parse $gnu_time output for slipway" >&2; exit 1; }

# --- 4. baseline --------------------------------------------------------------
log "timing: $kubectl kustomize over $builds directories, sequentially"
set +e
"$gnu_time" -v -o "$tmp/baseline.time" bash -c '
	set -euo pipefail
	kubectl=$1 fleet=$2 dirs=$3
	cd "$fleet"
	while IFS= read -r d; do
		"$kubectl" kustomize "$d" >/dev/null
	done <"$dirs"
' baseline "$kubectl" "$fleet" "$tmp/dirs.txt" 2>"$tmp/baseline.log"
baseline_rc=$?
set -e
if [[ $baseline_rc -ne 0 ]]; then
	echo "$0: baseline loop exited with status $baseline_rc; last lines of its output:" >&2
	tail -n 30 "$tmp/baseline.log" >&2
	exit 1
fi
read -r b_wall b_user b_sys b_rss < <(parse_time "$tmp/baseline.time") ||
	{ echo "$0: could not parse $gnu_time output for the baseline" >&2; exit 1; }

# --- 5. report ----------------------------------------------------------------
calc() { awk "BEGIN { $1 }"; }
s_cpu=$(calc "printf \"%.2f\", $s_user + $s_sys")
b_cpu=$(calc "printf \"%.2f\", $b_user + $b_sys")
s_mib=$(calc "printf \"%.1f\", $s_rss / 1024")
b_mib=$(calc "printf \"%.1f\", $b_rss / 1024")
# GNU time reports wall time in hundredths; guard against a 0.00 reading.
speedup=$(calc "w = $s_wall; if (w < 0.01) w = 0.01; printf \"%.1f\", $b_wall / w")

machine_nproc=$(nproc)
machine_cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
machine_os="$(uname -s) $(uname -m)"
go_version=$(go version)
kubectl_version=$("$kubectl" version --client 2>/dev/null | awk -F': ' '/^Client Version/ { print $2; exit }')
# Keep the upstream release only: vendor builds append suffixes that say nothing about kustomize.
kubectl_version="${kubectl_version%%-*}"
kustomize_version=$("$kubectl" version --client 2>/dev/null | awk -F': ' '/^Kustomize Version/ { print $2; exit }')

cat <<EOF

Fleet: $clusters clusters x $kustomizations Kustomizations x $objects objects (seed $seed):
$total_objects objects reconciled in total, $builds kustomize builds in the baseline.

| tool | wall s | CPU s | peak RSS MiB |
|---|---:|---:|---:|
| \`slipway validate\` | $s_wall | $s_cpu | $s_mib |
| \`kubectl kustomize\` x $builds, sequential | $b_wall | $b_cpu | $b_mib |

Speedup (baseline wall / slipway wall): **${speedup}x**

Machine: $machine_nproc CPUs${machine_cpu:+ ($machine_cpu)}, $machine_os; $go_version; kubectl ${kubectl_version:-unknown} (kustomize ${kustomize_version:-unknown})
EOF

json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/ }
	printf '"%s"' "$s"
}

cat >"$bench_out" <<EOF
{
  "params": {"clusters": $clusters, "kustomizations": $kustomizations, "objects": $objects, "seed": $seed},
  "total_objects": $total_objects,
  "baseline_builds": $builds,
  "slipway": {"wall_s": $s_wall, "user_s": $s_user, "sys_s": $s_sys, "cpu_s": $s_cpu, "max_rss_kib": $s_rss},
  "baseline": {"wall_s": $b_wall, "user_s": $b_user, "sys_s": $b_sys, "cpu_s": $b_cpu, "max_rss_kib": $b_rss},
  "speedup": $speedup,
  "machine": {
    "nproc": $machine_nproc,
    "cpu": $(json_str "$machine_cpu"),
    "os": $(json_str "$machine_os"),
    "go_version": $(json_str "$go_version"),
    "kubectl_version": $(json_str "$kubectl_version"),
    "kustomize_version": $(json_str "$kustomize_version")
  }
}
EOF
