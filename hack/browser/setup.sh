#!/usr/bin/env bash
# Installs what the browser tests need, once: Debian's chromium (when
# apt-get can be used: as root or with password-less sudo) and Mermaid from
# npm (hack/browser, lockfile committed). `make test` runs it first, so the
# README's one command sets a fresh machine up; it does nothing when both
# are there. Where chromium cannot be installed, it says so: the browser
# tests then skip on a developer's machine and fail in CI (CI is set).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		if sudo -n true 2>/dev/null; then sudo=sudo; else sudo=none; fi
	fi
	if command -v apt-get >/dev/null && [ "$sudo" != none ]; then
		echo "► installing Debian's chromium for the browser tests" >&2
		$sudo apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >&2
	else
		echo "! /usr/bin/chromium is missing and cannot be installed here (apt-get as root): the browser tests will skip (and fail in CI)" >&2
	fi
fi
if [ ! -f node_modules/mermaid/dist/mermaid.min.js ]; then
	if command -v npm >/dev/null; then
		echo "► installing Mermaid (npm ci in hack/browser) for the browser tests" >&2
		npm ci --no-audit --no-fund --ignore-scripts >&2
	else
		echo "! npm is missing: the Mermaid browser test will skip (and fail in CI)" >&2
	fi
fi
