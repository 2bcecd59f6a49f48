#!/usr/bin/env bash
# Quick start: a local CNCF distribution registry with labelled sample
# images, indexed by acr-index, then a query that finds images by commit.
# Installs Debian's docker-registry when missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-registry >/dev/null; then
  echo "installing Debian's docker-registry (the CNCF distribution registry)..." >&2
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi

work=$(mktemp -d)
port=${DEMO_PORT:-5055}
cat >"$work/config.yml" <<YAML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/storage}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

cargo build --release --quiet --bin acr-index --example seed
./target/release/examples/seed "http://127.0.0.1:$port" --sample

export ACR_INDEX_DB=${ACR_INDEX_DB:-$work/acr-index.db}
bin=./target/release/acr-index
echo; echo "\$ acr-index index --registry http://127.0.0.1:$port"
$bin index --registry "http://127.0.0.1:$port"
echo; echo "\$ acr-index query --label sourceversion=13c0f2b5a2ab438dd9dab2a669fef68b61f18bed"
$bin query --label sourceversion=13c0f2b5a2ab438dd9dab2a669fef68b61f18bed
echo; echo "\$ acr-index query --label revision=4b825dc* --format json"
$bin query --label 'revision=4b825dc*' --format json
