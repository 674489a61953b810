# Shared by the benchmark scripts (sourced, not run).

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
