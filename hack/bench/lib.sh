# Shared by the benchmark scripts (sourced, not run).

log() { echo "==> $*" >&2; }

# build_slipway DEST: the binary to time, $SLIPWAY_BIN when set (it must be
# executable), else ./cmd/slipway built now.
build_slipway() {
	if [[ -n ${SLIPWAY_BIN:-} ]]; then
		log "using prebuilt slipway $SLIPWAY_BIN"
		[[ -x $SLIPWAY_BIN ]] || { echo "$0: SLIPWAY_BIN '$SLIPWAY_BIN' is not executable" >&2; exit 1; }
		cp "$SLIPWAY_BIN" "$1"
	else
		log "building slipway"
		go build -o "$1" ./cmd/slipway
	fi
}

# parse_time FILE -> "wall user sys maxrss_kib" from GNU time -v output.
parse_time() {
	awk -F': ' '
		/Elapsed \(wall clock\) time/ {
			n = split($NF, p, ":"); wall = 0
			for (i = 1; i <= n; i++) wall = wall * 60 + p[i]
		}
		/User time \(seconds\)/ { user = $NF }
		/System time \(seconds\)/ { sys = $NF }
		/Maximum resident set size/ { rss = $NF }
		END {
			if (wall == "" || user == "" || sys == "" || rss == "") exit 1
			printf "%.2f %.2f %.2f %d\n", wall, user, sys, rss
		}' "$1"
}

# committed_fleet DIR KUSTOMIZATIONS OBJECTS: a 1-cluster fleet from
# hack/fleetgen in DIR, committed to a new Git repository on main; prints
# the commit.
committed_fleet() {
	local dir=$1
	log "generating a 1x$2x$3 fleet"
	go run ./hack/fleetgen -out "$dir" -clusters 1 -kustomizations "$2" -objects "$3" >/dev/null
	git init -q -b main "$dir"
	git -C "$dir" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false add -A
	git -C "$dir" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false commit -q -m fleet
	git -C "$dir" rev-parse HEAD
}
