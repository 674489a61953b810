#!/usr/bin/env bash
# Builds the local test cluster binaries from Go modules (no other downloads):
#   kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwokctl
#
# Output: ${SLIPWAY_CLUSTER_BIN:-$HOME/.cache/slipway/cluster-bin/<k8s-version>}
# The folder is printed as the last line of output.
#
# Idempotent: a binary is built only when it is missing, or when the inputs
# (go.mod, go.sum, the wrapper mains, the link flags, the Go version) changed
# since the folder was filled. Concurrent callers (e.g. several test packages)
# are serialised with flock. Go's build cache makes rebuilds after an input
# change fast (mostly linking).
#
# Usage: hack/cluster/build.sh [binary...]   (default: all)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The Kubernetes version is whatever hack/cluster/go.mod requires.
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${here}/go.mod")"
if [[ -z "${k8s_version}" ]]; then
  echo "build.sh: cannot find the k8s.io/kubernetes version in ${here}/go.mod" >&2
  exit 1
fi
kwok_version="$(awk '$1 == "sigs.k8s.io/kwok" && $2 ~ /^v/ {print $2; exit}' "${here}/go.mod")"
k8s_major="$(echo "${k8s_version#v}" | cut -d. -f1)"
k8s_minor="$(echo "${k8s_version#v}" | cut -d. -f2)"

bin_dir="${SLIPWAY_CLUSTER_BIN:-${HOME}/.cache/slipway/cluster-bin/${k8s_version}}"
mkdir -p "${bin_dir}"

all=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwokctl)
if [[ $# -gt 0 ]]; then
  want=("$@")
else
  want=("${all[@]}")
fi

# kubectl, Helm and kwokctl read the server version, so stamp it.
cb=k8s.io/component-base/version
k8s_ldflags="-s -w -X ${cb}.gitVersion=${k8s_version} -X ${cb}.gitMajor=${k8s_major} -X ${cb}.gitMinor=${k8s_minor} -X ${cb}.gitTreeState=clean -X ${cb}.buildDate=1970-01-01T00:00:00Z"
# kwok: stamp the versions, and point every download location at a path that
# does not exist, so kwokctl fails loudly instead of fetching anything that was
# not passed in explicitly.
kc=sigs.k8s.io/kwok/pkg/consts
offline=/nonexistent/slipway-offline
kwok_ldflags="-s -w -X ${kc}.Version=${kwok_version#v} -X ${kc}.KubeVersion=${k8s_version#v}"
for v in BinaryPrefix KubeBinaryPrefix KubeBinaryUnofficialPrefix EtcdBinaryPrefix KectlBinaryPrefix KindBinaryPrefix PrometheusBinaryPrefix JaegerBinaryPrefix MetricsServerBinaryPrefix; do
  kwok_ldflags+=" -X ${kc}.${v}=${offline}"
done

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOWORK=off # this is its own module, whatever go.work may say
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
export CGO_ENABLED="${CGO_ENABLED:-0}"

# Everything that influences the output; a change invalidates the folder.
stamp="$( (cd "${here}" && cat go.mod go.sum cmd/*/main.go; echo "${k8s_ldflags} ${kwok_ldflags}"; go env GOVERSION GOOS GOARCH) | sha256sum | cut -c1-16)"

exec 9>"${bin_dir}/.lock"
flock 9

if [[ "$(cat "${bin_dir}/.stamp" 2>/dev/null || true)" != "${stamp}" &&
      "$(cat "${bin_dir}/.stamp.pending" 2>/dev/null || true)" != "${stamp}" ]]; then
  # Inputs changed (or first run): drop stale binaries.
  for b in "${all[@]}"; do rm -f "${bin_dir}/${b}"; done
  rm -f "${bin_dir}/.stamp"
  echo "${stamp}" >"${bin_dir}/.stamp.pending"
fi

built=0
for b in "${want[@]}"; do
  if [[ ! -d "${here}/cmd/${b}" ]]; then
    echo "build.sh: unknown binary ${b} (known: ${all[*]})" >&2
    exit 1
  fi
  if [[ -x "${bin_dir}/${b}" ]]; then
    continue
  fi
  case "${b}" in
    kwok|kwokctl) ldflags="${kwok_ldflags}" ;;
    *) ldflags="${k8s_ldflags}" ;;
  esac
  echo "building ${b} (${k8s_version}) -> ${bin_dir}/${b}" >&2
  start=$(date +%s)
  (cd "${here}" && go build -trimpath -ldflags "${ldflags}" -o "${bin_dir}/.${b}.tmp" "./cmd/${b}")
  mv -f "${bin_dir}/.${b}.tmp" "${bin_dir}/${b}"
  echo "built ${b} in $(( $(date +%s) - start ))s" >&2
  built=$((built + 1))
done

if [[ -f "${bin_dir}/.stamp.pending" ]]; then
  missing=0
  for b in "${all[@]}"; do [[ -x "${bin_dir}/${b}" ]] || missing=1; done
  if [[ ${missing} -eq 0 ]]; then
    mv -f "${bin_dir}/.stamp.pending" "${bin_dir}/.stamp"
  fi
fi

if [[ ${built} -eq 0 ]]; then
  echo "cluster binaries up to date in ${bin_dir}" >&2
fi
echo "${bin_dir}"
