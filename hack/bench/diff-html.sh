#!/usr/bin/env bash
# Benchmark the cost of the HTML report: the warm incremental `slipway diff`
# of a one-file change (a base every cluster path uses) in a synthetic
# fleet, -o text against -o html, alternated RUNS times; prints the medians
# and minimums of wall and CPU time.
#
# Usage: hack/bench/diff-html.sh [clusters=3] [kustomizations=100] [objects=10]
# RUNS=10 by default; BENCH_KEEP=1 keeps the temporary directory.
set -euo pipefail
clusters=${1:-3}
kustomizations=${2:-100}
objects=${3:-10}
runs=${RUNS:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=lib.sh
. hack/bench/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-html.XXXXXX")
cleanup() { if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
fleet=$tmp/fleet
git_() { git -C "$fleet" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false "$@"; }

build_slipway "$tmp/slipway"
log "generating a ${clusters}x${kustomizations}x${objects} fleet"
go run ./hack/fleetgen -out "$fleet" -clusters "$clusters" -kustomizations "$kustomizations" -objects "$objects" >/dev/null
git init -q -b main "$fleet"
git_ add -A && git_ commit -q -m base
sed -i '0,/^data:/{/^data:/a\  changed-by-bench: "yes"
}' "$fleet/apps/app-000/base/configmap.yaml"
git_ commit -q -am "change a shared base"
git_ gc -q
log "warming the build cache with a validate of the base"
git_ checkout -q HEAD~1
"$tmp/slipway" validate --repo "$fleet" --cache-dir "$tmp/cache" >/dev/null
git_ checkout -q main
for fmt in text html; do # one untimed run each
	"$tmp/slipway" diff --repo "$fleet" --base HEAD~1 --head HEAD --cache-dir "$tmp/cache" -o "$fmt" --output-file "$tmp/out.$fmt"
done
log "timing $runs runs of each, alternated"
for _ in $(seq "$runs"); do
	for fmt in text html; do
		/usr/bin/time -f "$fmt %e %U %S" -a -o "$tmp/times" \
			"$tmp/slipway" diff --repo "$fleet" --base HEAD~1 --head HEAD --cache-dir "$tmp/cache" -o "$fmt" --output-file "$tmp/out.$fmt"
	done
done
echo "| -o | runs | wall median / min s | CPU median / min s | output bytes |"
echo "|---|---:|---:|---:|---:|"
for fmt in text html; do
	awk -v f="$fmt" -v size="$(wc -c <"$tmp/out.$fmt")" '
		$1 == f { n++; w[n] = $2; c[n] = $3 + $4 }
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
		}
		END { mw = med(w, n); mc = med(c, n); printf "| %s | %d | %.2f / %.2f | %.2f / %.2f | %d |\n", f, n, mw, w[1], mc, c[1], size }
	' "$tmp/times"
done
