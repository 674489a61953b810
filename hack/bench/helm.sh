#!/usr/bin/env bash
# Benchmark HelmRelease rendering: `slipway build` with an empty chart cache
# (cold) and with the cache it filled (warm), against the usual script-based
# baseline of running `helm template` once per HelmRelease, on a repository
# produced by hack/helmfleet whose charts are served from an HTTP Helm
# repository on loopback.
#
# Usage: hack/bench/helm.sh [releases=50] [charts=10]
#
# Environment:
#   BENCH_OUT   file that receives the raw figures as JSON (default /dev/null)
#   BENCH_SEED  helmfleet seed (default 1)
#   BENCH_KEEP  if 1, keep the temporary directory (binaries, repository, logs)
#   HELM_BIN    prebuilt Helm 4 CLI to use instead of building helm.sh/helm/v4/cmd/helm
#   SLIPWAY_BIN prebuilt slipway binary to time instead of building ./cmd/slipway
#   GNU_TIME    GNU time binary (default /usr/bin/time)
#
# The Helm CLI is built from the Go module proxy in a throwaway module
# (nothing is added to slipway's go.mod), at the version slipway's go.mod
# requires.
set -euo pipefail

usage() {
	echo "usage: $0 [releases=50] [charts=10]" >&2
	exit 2
}

[[ $# -le 2 ]] || usage
releases=${1:-50}
charts=${2:-10}
for n in "$releases" "$charts"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "$0: '$n' is not a positive integer" >&2; usage; }
done
seed=${BENCH_SEED:-1}
[[ $seed =~ ^[0-9]+$ ]] || { echo "$0: BENCH_SEED '$seed' is not a non-negative integer" >&2; exit 2; }
bench_out=${BENCH_OUT:-/dev/null}
gnu_time=${GNU_TIME:-/usr/bin/time}

[[ -x $gnu_time ]] || { echo "$0: GNU time not found at $gnu_time (set GNU_TIME)" >&2; exit 1; }
command -v go >/dev/null || { echo "$0: go not found on PATH" >&2; exit 1; }
export GOTOOLCHAIN=local

# Run from the repository root (this script lives in hack/bench/).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
[[ -f go.mod ]] || { echo "$0: $root does not look like the repository root" >&2; exit 1; }
helm_version=$(awk '$1 == "helm.sh/helm/v4" { print $2; exit }' go.mod)
[[ -n $helm_version ]] || { echo "$0: go.mod does not require helm.sh/helm/v4" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-helm.XXXXXX")
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then
		echo "kept $tmp" >&2
	else
		# The Go module cache marks files read-only; make sure they go too.
		chmod -R u+w "$tmp" 2>/dev/null || true
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
fleet=$tmp/fleet
repo=$tmp/repo
path=clusters/helm

# shellcheck source=lib.sh
. "$root/hack/bench/lib.sh"

# --- 1. build -----------------------------------------------------------------
build_slipway "$tmp/slipway"
go build -o "$tmp/helmfleet" ./hack/helmfleet

if [[ -n ${HELM_BIN:-} ]]; then
	log "using prebuilt helm $HELM_BIN"
	[[ -x $HELM_BIN ]] || { echo "$0: HELM_BIN '$HELM_BIN' is not executable" >&2; exit 1; }
	cp "$HELM_BIN" "$tmp/helm"
else
	log "building the Helm CLI helm.sh/helm/v4/cmd/helm@$helm_version from the module proxy (minutes the first time)"
	mkdir "$tmp/helmcli"
	(
		cd "$tmp/helmcli"
		go mod init slipway-bench/helmcli >/dev/null 2>&1
		go get "helm.sh/helm/v4/cmd/helm@$helm_version" >/dev/null 2>&1
		go build -ldflags "-X helm.sh/helm/v4/internal/version.version=$helm_version" \
			-o "$tmp/helm" helm.sh/helm/v4/cmd/helm
	) || { echo "$0: could not build the Helm CLI (set HELM_BIN to a prebuilt one)" >&2; exit 1; }
fi
helm=$tmp/helm
# Helm keeps its repositories and caches here, never in the user's home.
export HELM_CACHE_HOME=$tmp/helm-home/cache HELM_CONFIG_HOME=$tmp/helm-home/config HELM_DATA_HOME=$tmp/helm-home/data

# --- 2. the chart repository and the fleet ------------------------------------
mkdir "$repo"
"$tmp/helmfleet" -serve "$repo" -port-file "$tmp/port" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
	[[ -s $tmp/port ]] && break
	kill -0 "$server_pid" 2>/dev/null || { echo "$0: chart server failed:" >&2; cat "$tmp/server.log" >&2; exit 1; }
	sleep 0.1
done
[[ -s $tmp/port ]] || { echo "$0: chart server did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$tmp/port")"

log "generating $releases HelmReleases over $charts charts (seed $seed), repository $url"
"$tmp/helmfleet" -out "$fleet" -releases "$releases" -charts "$charts" -seed "$seed" -repo-url "$url" >&2
git init -q -b main "$fleet" 2>/dev/null || git init -q "$fleet"
git -C "$fleet" add -A
git -C "$fleet" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false \
	commit -q --no-verify -m "synthetic helm fleet" ||
	log "warning: could not commit the fleet; continuing with an uncommitted work tree"

log "packaging the charts and indexing the repository with $helm"
for c in "$fleet"/charts/chart-*; do
	"$helm" package "$c" -d "$repo" >/dev/null
done
"$helm" repo index "$repo" --url "$url"
"$helm" repo add bench "$url" >/dev/null


# timed NAME CMD... runs CMD under GNU time, its stdout in $tmp/NAME.out,
# and prints "wall user sys maxrss_kib".
timed() {
	local name=$1
	shift
	set +e
	"$gnu_time" -v -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.log"
	local rc=$?
	set -e
	if [[ $rc -ne 0 ]]; then
		echo "$0: $name exited with status $rc; last lines of its output:" >&2
		tail -n 30 "$tmp/$name.log" >&2
		exit 1
	fi
	parse_time "$tmp/$name.time" || { echo "$0: could not parse $gnu_time output for $name" >&2; exit 1; }
}

# kinds FILE -> "Deployments/HPAs" rendered, to check both tools did the same work.
kinds() {
	printf '%s/%s' "$(grep -c '^kind: Deployment$' "$1" || true)" \
		"$(grep -c '^kind: HorizontalPodAutoscaler$' "$1" || true)"
}

# --- 3. slipway ---------------------------------------------------------------
slipway_build=("$tmp/slipway" build --repo "$fleet" --path "$path" --no-build-cache --cache-dir "$tmp/cache")
log "timing: slipway build, empty cache (cold)"
read -r c_wall c_user c_sys c_rss < <(timed slipway-cold "${slipway_build[@]}")
log "timing: slipway build, same cache (warm)"
read -r w_wall w_user w_sys w_rss < <(timed slipway-warm "${slipway_build[@]}")
cold_kinds=$(kinds "$tmp/slipway-cold.out")
warm_kinds=$(kinds "$tmp/slipway-warm.out")

# --- 4. baseline --------------------------------------------------------------
# One `helm template` per HelmRelease, the repository added once. Run twice:
# the first pass fills Helm's own caches, the second reads them.
loop() {
	"$gnu_time" -v -o "$tmp/$1.time" bash -c '
		set -euo pipefail
		helm=$1 fleet=$2
		cd "$fleet"
		while IFS=$'"'\t'"' read -r name ns chart version values; do
			"$helm" template "$name" "bench/$chart" --version "$version" --namespace "$ns" -f "$values"
		done <baseline/releases.tsv
	' loop "$helm" "$fleet" >"$tmp/$1.out" 2>"$tmp/$1.log" || {
		echo "$0: $1 failed; last lines of its output:" >&2
		tail -n 30 "$tmp/$1.log" >&2
		exit 1
	}
	parse_time "$tmp/$1.time" || { echo "$0: could not parse $gnu_time output for $1" >&2; exit 1; }
}
log "timing: helm template x $releases, first pass"
read -r b1_wall b1_user b1_sys b1_rss < <(loop helm-first)
log "timing: helm template x $releases, second pass"
read -r b2_wall b2_user b2_sys b2_rss < <(loop helm-second)
helm_kinds=$(kinds "$tmp/helm-second.out")

for k in "$cold_kinds" "$warm_kinds" "$(kinds "$tmp/helm-first.out")"; do
	if [[ $k != "$helm_kinds" ]]; then
		echo "$0: the tools rendered different objects (Deployments/HPAs: slipway cold $cold_kinds, warm $warm_kinds, helm $helm_kinds)" >&2
		exit 1
	fi
done
[[ ${helm_kinds%%/*} == "$releases" ]] ||
	{ echo "$0: expected $releases Deployments, got ${helm_kinds%%/*}" >&2; exit 1; }

# --- 5. report ----------------------------------------------------------------
calc() { awk "BEGIN { $1 }"; }
cpu() { calc "printf \"%.2f\", $1 + $2"; }
mib() { calc "printf \"%.1f\", $1 / 1024"; }
# GNU time reports wall time in hundredths; guard against a 0.00 reading.
ratio() { calc "w = $2; if (w < 0.01) w = 0.01; printf \"%.1f\", $1 / w"; }
c_cpu=$(cpu "$c_user" "$c_sys")
w_cpu=$(cpu "$w_user" "$w_sys")
b1_cpu=$(cpu "$b1_user" "$b1_sys")
b2_cpu=$(cpu "$b2_user" "$b2_sys")
speedup=$(ratio "$b2_wall" "$w_wall")
speedup_first=$(ratio "$b1_wall" "$w_wall")
speedup_cold=$(ratio "$b2_wall" "$c_wall")

machine_nproc=$(nproc)
machine_cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
machine_os="$(uname -s) $(uname -m)"
machine_load=$(awk '{ print $1, $2, $3 }' /proc/loadavg 2>/dev/null || true)
go_version=$(go version)
helm_cli_version=$("$helm" version --short 2>/dev/null || echo unknown)

cat <<EOF

$releases HelmReleases over $charts charts from an HTTP Helm repository on loopback
(seed $seed); every tool rendered ${helm_kinds%%/*} Deployments and ${helm_kinds##*/} HorizontalPodAutoscalers.

| tool | wall s | CPU s | peak RSS MiB |
|---|---:|---:|---:|
| \`slipway build\`, empty chart cache (cold) | $c_wall | $c_cpu | $(mib "$c_rss") |
| \`slipway build\`, warm chart cache | $w_wall | $w_cpu | $(mib "$w_rss") |
| \`helm template\` x $releases, first pass | $b1_wall | $b1_cpu | $(mib "$b1_rss") |
| \`helm template\` x $releases, second pass | $b2_wall | $b2_cpu | $(mib "$b2_rss") |

Speedup, warm slipway vs the helm loop's second pass: **${speedup}x** (vs its first pass ${speedup_first}x; cold slipway vs second pass ${speedup_cold}x)

Machine: $machine_nproc CPUs${machine_cpu:+ ($machine_cpu)}, $machine_os, load $machine_load; $go_version; helm $helm_cli_version
EOF

json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/ }
	printf '"%s"' "$s"
}
json_run() { printf '{"wall_s": %s, "user_s": %s, "sys_s": %s, "cpu_s": %s, "max_rss_kib": %s}' "$@"; }

cat >"$bench_out" <<EOF
{
  "params": {"releases": $releases, "charts": $charts, "seed": $seed},
  "slipway_cold": $(json_run "$c_wall" "$c_user" "$c_sys" "$c_cpu" "$c_rss"),
  "slipway_warm": $(json_run "$w_wall" "$w_user" "$w_sys" "$w_cpu" "$w_rss"),
  "helm_first": $(json_run "$b1_wall" "$b1_user" "$b1_sys" "$b1_cpu" "$b1_rss"),
  "helm_second": $(json_run "$b2_wall" "$b2_user" "$b2_sys" "$b2_cpu" "$b2_rss"),
  "speedup_warm_vs_loop": $speedup,
  "machine": {
    "nproc": $machine_nproc,
    "cpu": $(json_str "$machine_cpu"),
    "os": $(json_str "$machine_os"),
    "load": $(json_str "$machine_load"),
    "go_version": $(json_str "$go_version"),
    "helm_version": $(json_str "$helm_cli_version")
  }
}
EOF
