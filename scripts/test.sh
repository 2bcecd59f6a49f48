#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing, then
# checks formatting, lints, and runs every test (unit, integration against
# a real docker-registry, CLI). A missing program fails the run; nothing skips.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v docker-registry >/dev/null || { echo "docker-registry is required: apt-get install docker-registry" >&2; exit 1; }

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
if [ -x deploy/validate.sh ]; then
  deploy/validate.sh
fi
