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

echo "stopping cluster ${name}" >&2
if [[ -x "${kwokctl}" ]]; then
  "${kwokctl}" --name "${name}" delete cluster --kubeconfig "" >&2 || true
fi

# Whatever kwokctl left running (or if it was unavailable): the binary runtime
# records one pid file per component process.
real_workdir="$(cd "${workdir}" && pwd -P)"
if [[ -d "${workdir}/pids" ]]; then
  for f in "${workdir}"/pids/*.pid; do
    [[ -f "${f}" ]] || continue
    pid="$(tr -dc '0-9' <"${f}")"
    [[ -n "${pid}" ]] || continue
    # Only signal the process if it still runs in this cluster's folder (the
    # pid may have been reused by something else since).
    if [[ -d "/proc/${pid}" && "$(readlink "/proc/${pid}/cwd" 2>/dev/null)" == "${real_workdir}" ]]; then
      kill "${pid}" 2>/dev/null || true
    fi
  done
fi

rm -rf "${workdir}"
echo "cluster ${name} removed" >&2
