#!/bin/sh
# Interim action entrypoint: maps the action's inputs to slipway flags.
# Inputs arrive as INPUT_<NAME> (hyphens kept), so they are read with env.
set -eu
mode=$(env | sed -n 's/^INPUT_MODE=//p')
paths=$(env | sed -n 's/^INPUT_PATH=//p')
k8s=$(env | sed -n 's/^INPUT_KUBERNETES-VERSION=//p')
case "${mode:-validate}" in
  validate|build) ;;
  *) echo "::error title=slipway::mode '${mode}' is not available in this release (validate, build)"; exit 2 ;;
esac
set -- "${mode:-validate}" --repo "${GITHUB_WORKSPACE:-.}"
for p in $paths; do set -- "$@" --path "$p"; done
[ -n "$k8s" ] && [ "$mode" != build ] && set -- "$@" --kubernetes-version "$k8s"
exec /usr/local/bin/slipway "$@"
