#!/usr/bin/env bash
# Restarts the control plane of a local test cluster started by up.sh, after
# one of its components died (a test kills the API server to see what an
# interrupted deploy leaves behind).
#
# Usage: hack/cluster/restart.sh [NAME]   (NAME defaults to slipway-dev)
#
# Uses the same environment as up.sh. When the API server dies,
# kube-controller-manager and kube-scheduler exit too (they lose their leader
# lease), and `kwokctl start cluster` skips every component whose pid file is
# left behind, so the API server alone would stay down: stop whatever still
# runs, then start every component, then wait until the API server is ready.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name="${1:-slipway-dev}"
wait_s="${SLIPWAY_CLUSTER_WAIT:-120}"
state="${SLIPWAY_CLUSTER_STATE:-${HOME}/.cache/slipway/clusters}"

if [[ ! "${name}" =~ ^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$ ]]; then
  echo "restart.sh: invalid cluster name ${name@Q}" >&2
  exit 2
fi
kubectl="${KUBECTL:-$(command -v kubectl || true)}"
if [[ -z "${kubectl}" ]]; then
  echo "restart.sh: kubectl not found (set KUBECTL)" >&2
  exit 1
fi

bin="$("${here}/build.sh" | tail -n 1)"
export KWOK_WORKDIR="${state}"
export KWOK_KUBECTL_BINARY="${kubectl}"
workdir="${state}/clusters/${name}"
kwokctl=("${bin}/kwokctl" --name "${name}" --config "${here}/kwokctl.yaml")

"${kwokctl[@]}" stop cluster >&2
"${kwokctl[@]}" start cluster --timeout "${wait_s}s" >&2

deadline=$(( $(date +%s) + wait_s ))
until "${kubectl}" --kubeconfig "${workdir}/kubeconfig.yaml" get --raw /readyz >/dev/null 2>&1; do
  if (( $(date +%s) > deadline )); then
    echo "restart.sh: timed out waiting for the API server of ${name}" >&2
    exit 1
  fi
  sleep 0.5
done
echo "cluster ${name} restarted" >&2
