#!/usr/bin/env bash
# Stops a local test cluster started by up.sh and removes all of its state.
#
# Usage: hack/cluster/down.sh [NAME]      (NAME defaults to slipway-dev)
#
# Uses the same SLIPWAY_CLUSTER_STATE / SLIPWAY_CLUSTER_BIN as up.sh. Removing
# a cluster that does not exist is not an error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name="${1:-slipway-dev}"
state="${SLIPWAY_CLUSTER_STATE:-${HOME}/.cache/slipway/clusters}"

if [[ ! "${name}" =~ ^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$ ]]; then
  echo "down.sh: invalid cluster name ${name@Q}" >&2
  exit 2
fi

workdir="${state}/clusters/${name}"
if [[ ! -d "${workdir}" ]]; then
  echo "cluster ${name} does not exist" >&2
  exit 0
fi

export KWOK_WORKDIR="${state}"
export KWOK_KUBECTL_BINARY="${KUBECTL:-$(command -v kubectl || echo kubectl)}"

# Do not build anything just to delete a cluster: use kwokctl only if present.
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${here}/go.mod")"
kwokctl="${SLIPWAY_CLUSTER_BIN:-${HOME}/.cache/slipway/cluster-bin/${k8s_version}}/kwokctl"

# The binary runtime records one pid file per component process. Read them
# first: kwokctl removes the folder.
real_workdir="$(cd "${workdir}" && pwd -P)"
# Is pid a live (not zombie) process running in this cluster's folder? The
# check guards against a pid reused by something else since.
ours() {
  [[ -r "/proc/$1/stat" ]] || return 1
  [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]] || return 1
  local cwd
  cwd="$(readlink "/proc/$1/cwd" 2>/dev/null)" || return 1
  [[ "${cwd% (deleted)}" == "${real_workdir}" ]]
}
pids=()
for f in "${workdir}"/pids/*.pid; do
  [[ -f "${f}" ]] || continue
  pid="$(tr -dc '0-9' <"${f}")"
  if [[ -n "${pid}" ]] && ours "${pid}"; then
    pids+=("${pid}")
  fi
done

echo "stopping cluster ${name}" >&2
if [[ -x "${kwokctl}" ]]; then
  # --kubeconfig names a file kwokctl removes the cluster's context from; point
  # it at the cluster's own kubeconfig so that no user file is touched.
  "${kwokctl}" --name "${name}" --config "${here}/kwokctl.yaml" \
    delete cluster --kubeconfig "${workdir}/kubeconfig.yaml" >&2 || true
fi

# Kill whatever is left (everything, if kwokctl was unavailable) and wait for
# it to be gone. Throw-away state: no need for a graceful shutdown.
for _ in $(seq 50); do
  left=()
  for pid in ${pids[@]+"${pids[@]}"}; do
    if ours "${pid}"; then left+=("${pid}"); fi
  done
  [[ ${#left[@]} -eq 0 ]] && break
  kill -KILL "${left[@]}" 2>/dev/null || true
  sleep 0.1
done
if [[ ${#left[@]} -gt 0 ]]; then
  echo "down.sh: processes ${left[*]} of cluster ${name} did not exit" >&2
  exit 1
fi

rm -rf "${workdir}"
echo "cluster ${name} removed" >&2
