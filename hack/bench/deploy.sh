#!/usr/bin/env bash
# Deploy benchmark: slipway apply vs kubectl apply --server-side of the same
# rendered objects, each on a fresh local cluster, in one run:
#   1. first deploy, 2. no-op redeploy, 3. redeploy after changing 10 objects.
# Usage: hack/bench/deploy.sh [kustomizations=50] [objects=20]
# Writes a markdown table to stdout; raw figures as JSON to $BENCH_OUT if set.
set -euo pipefail
cd "$(dirname "$0")/../.."
ks="${1:-50}"
objs="${2:-20}"
tmp="$(mktemp -d)"
clusters=()
cleanup() {
  for c in "${clusters[@]}"; do hack/cluster/down.sh "$c" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/slipway" ./cmd/slipway
go run ./hack/fleetgen -out "$tmp/fleet" -clusters 1 -kustomizations "$ks" -objects "$objs" >/dev/null
path=clusters/cluster-00

# The objects kubectl applies: slipway's own build output without the Flux
# objects (which need Flux's CRDs and which slipway interprets instead).
render() {
  "$tmp/slipway" build --repo "$tmp/fleet" --path "$path" --no-build-cache -o json | python3 -c '
import json, sys
docs = []
for c in json.load(sys.stdin):
    for k in c["kustomizations"]:
        for o in k["objects"]:
            obj = o["object"]
            g = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
            if g.endswith(".toolkit.fluxcd.io") or g == "source.extensions.fluxcd.io":
                continue
            docs.append(obj)
# Namespaces first, as kubectl users must order them by hand.
docs.sort(key=lambda o: 0 if o["kind"] == "Namespace" else 1)
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
' > "$1"
}

# change10 edits 10 objects of the fleet (ConfigMap data values).
change10() {
  local n=0
  for f in $(grep -l '^kind: ConfigMap' -r "$tmp/fleet/apps" | sort | head -n 10); do
    sed -i 's/^\(  [a-z_-]*: \)"\?\(.*\)"\?$/\1"\2-changed"/;t' "$f" || true
    n=$((n+1))
  done
  echo "changed $n files" >&2
}

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2-$1:.2f}')"; }

slipway_cluster=bench-slipway-$$
kubectl_cluster=bench-kubectl-$$
clusters+=("$slipway_cluster" "$kubectl_cluster")
kc_s=$(hack/cluster/up.sh "$slipway_cluster" 2>/dev/null | tail -n 1)
kc_k=$(hack/cluster/up.sh "$kubectl_cluster" 2>/dev/null | tail -n 1)

render "$tmp/objects.json"
count=$(python3 -c "import json;print(len(json.load(open('$tmp/objects.json'))['items']))")

run_slipway() {
  local t0 t1 out
  t0=$(now)
  # The build cache starts empty (a first deploy builds everything) and is
  # kept between runs, as actions/cache keeps it between CI runs.
  out=$("$tmp/slipway" apply --repo "$tmp/fleet" --path "$path" --kubeconfig "$kc_s" --cache-dir "$tmp/cache" -o json 2>"$tmp/slipway.log") ||
    { echo "slipway apply failed:" >&2; tail -n 20 "$tmp/slipway.log" >&2; exit 1; }
  t1=$(now)
  echo "$(elapsed "$t0" "$t1") $(echo "$out" | python3 -c "import json,sys;print(json.load(sys.stdin)[0]['apiRequests'])")"
}
run_kubectl() {
  local t0 t1 n
  t0=$(now)
  kubectl --kubeconfig "$kc_k" apply --server-side --field-manager bench -f "$tmp/objects.json" -v=6 >"$tmp/kubectl.log" 2>&1
  t1=$(now)
  n=$(grep -cE '"(GET|PATCH|POST|PUT|DELETE)" |round_trippers.*(GET|PATCH|POST|PUT|DELETE) https' "$tmp/kubectl.log" || true)
  echo "$(elapsed "$t0" "$t1") $n"
}

read -r s1 r1 <<<"$(run_slipway)";  read -r k1 q1 <<<"$(run_kubectl)"
read -r s2 r2 <<<"$(run_slipway)";  read -r k2 q2 <<<"$(run_kubectl)"
change10
render "$tmp/objects.json"
read -r s3 r3 <<<"$(run_slipway)";  read -r k3 q3 <<<"$(run_kubectl)"

ratio() { python3 -c "print(f'{$1/$2:.1f}x')"; }
cat <<EOT
Objects: $count across $ks Kustomizations (plus the Flux objects slipway interprets).
Machine: $(nproc) CPUs, $(go version | cut -d' ' -f3), kubectl $(kubectl version --client -o json | python3 -c 'import json,sys;print(json.load(sys.stdin)["clientVersion"]["gitVersion"].split("-")[0])')

| step | slipway s | slipway API requests | kubectl --server-side s | kubectl API requests | speed-up |
|---|---:|---:|---:|---:|---:|
| first deploy | $s1 | $r1 | $k1 | $q1 | $(ratio "$k1" "$s1") |
| no-op redeploy | $s2 | $r2 | $k2 | $q2 | $(ratio "$k2" "$s2") |
| 10 objects changed | $s3 | $r3 | $k3 | $q3 | $(ratio "$k3" "$s3") |
EOT
if [[ -n "${BENCH_OUT:-}" ]]; then
  printf '{"objects":%s,"slipway":[%s,%s,%s],"kubectl":[%s,%s,%s],"slipway_requests":[%s,%s,%s],"kubectl_requests":[%s,%s,%s]}\n' \
    "$count" "$s1" "$s2" "$s3" "$k1" "$k2" "$k3" "$r1" "$r2" "$r3" "$q1" "$q2" "$q3" > "$BENCH_OUT"
fi
