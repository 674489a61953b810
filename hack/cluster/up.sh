#!/usr/bin/env bash
# Starts a local test cluster: a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) running as local processes, plus the
# kwok controller simulating nodes and the pods scheduled on them. Nothing is
# downloaded: all binaries come from build.sh, which builds them from Go
# modules.
#
# Usage: hack/cluster/up.sh [NAME]        (NAME defaults to slipway-dev)
#
# Environment:
#   SLIPWAY_CLUSTER_STATE  state folder (default $HOME/.cache/slipway/clusters);
#                          the cluster lives in $SLIPWAY_CLUSTER_STATE/clusters/NAME
#   SLIPWAY_CLUSTER_BIN    binary folder (see build.sh)
#   SLIPWAY_CLUSTER_NODES  number of simulated nodes (default 2)
#   SLIPWAY_CLUSTER_WAIT   readiness timeout in seconds (default 120)
#   SLIPWAY_CLUSTER_APISERVER_ARGS  extra kube-apiserver flags, one name=value
#                          per line (e.g. authentication-config=/path/authn.yaml)
#   KUBECTL                kubectl to use (default: kubectl from PATH)
#
# Progress goes to stderr; the kubeconfig path is printed to stdout as the last
# line, so `KUBECONFIG=$(hack/cluster/up.sh)` works. Running it again for a
# cluster that is already up is harmless. Stop it with down.sh NAME.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name="${1:-slipway-dev}"
nodes="${SLIPWAY_CLUSTER_NODES:-2}"
wait_s="${SLIPWAY_CLUSTER_WAIT:-120}"
state="${SLIPWAY_CLUSTER_STATE:-${HOME}/.cache/slipway/clusters}"

if [[ ! "${name}" =~ ^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$ ]]; then
  echo "up.sh: invalid cluster name ${name@Q} (lowercase letters, digits and '-')" >&2
  exit 2
fi
if [[ ! "${nodes}" =~ ^[0-9]+$ ]]; then
  echo "up.sh: SLIPWAY_CLUSTER_NODES must be a number" >&2
  exit 2
fi

kubectl="${KUBECTL:-$(command -v kubectl || true)}"
if [[ -z "${kubectl}" ]]; then
  echo "up.sh: kubectl not found (set KUBECTL)" >&2
  exit 1
fi

bin="$("${here}/build.sh" | tail -n 1)"

# Keep every kwokctl file (config, clusters, cache) out of $HOME/.kwok, and
# make it use our kubectl instead of fetching one.
mkdir -p "${state}/clusters"
export KWOK_WORKDIR="${state}"
export KWOK_KUBECTL_BINARY="${kubectl}"

workdir="${state}/clusters/${name}"
kubeconfig="${workdir}/kubeconfig.yaml"
kwokctl=("${bin}/kwokctl" --name "${name}" --config "${here}/kwokctl.yaml")

extra=()
while IFS= read -r arg; do
  if [[ -n "${arg}" ]]; then extra+=(--extra-args "kube-apiserver=${arg}"); fi
done <<< "${SLIPWAY_CLUSTER_APISERVER_ARGS:-}"

start=$(date +%s)
echo "starting cluster ${name} (state: ${workdir})" >&2
trap 'echo "up.sh: cluster ${name} failed to start; component logs: ${workdir}/logs; clean up with: ${here}/down.sh ${name}" >&2' ERR
(
  # kwokctl picks free ports by probing and by reading the configs of the other
  # clusters in KWOK_WORKDIR, so two creations at the same moment could pick
  # the same ports. Serialise creations; they take a few seconds.
  flock 9
  # 9>&-: the cluster processes kwokctl leaves running must not inherit the
  # lock, or they would hold it for their whole life.
  "${kwokctl[@]}" create cluster 9>&- \
    --runtime binary \
    --kubeconfig "" \
    --quiet-pull \
    --timeout "${wait_s}s" \
    --etcd-binary "${bin}/etcd" \
    --kube-apiserver-binary "${bin}/kube-apiserver" \
    --kube-controller-manager-binary "${bin}/kube-controller-manager" \
    --kube-scheduler-binary "${bin}/kube-scheduler" \
    --kwok-controller-binary "${bin}/kwok" \
    ${extra[@]+"${extra[@]}"} >&2
) 9>"${state}/.create.lock"

k() { "${kubectl}" --kubeconfig "${kubeconfig}" "$@"; }

# Poll until a command succeeds, or fail after the deadline.
deadline=$(( $(date +%s) + wait_s ))
until_ok() {
  local what="$1"; shift
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) > deadline )); then
      echo "up.sh: timed out waiting for ${what}" >&2
      "$@" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

until_ok "the API server to be ready" k get --raw /readyz
if (( nodes > 0 )); then
  "${kwokctl[@]}" scale node --replicas "${nodes}" >&2
  have_nodes() { (( $(k get nodes -o name | wc -l) >= nodes )); }
  until_ok "${nodes} nodes" have_nodes
  until_ok "nodes to be Ready" k wait --for=condition=Ready node --all --timeout=5s
fi
# Pods cannot be created before the controller manager made the default
# service account.
until_ok "the default service account" k get serviceaccount default -n default

echo "cluster ${name} ready in $(( $(date +%s) - start ))s with ${nodes} node(s)" >&2
echo "${kubeconfig}"
