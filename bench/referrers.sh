#!/usr/bin/env bash
# Extra requests the referrers stage costs (docs/referrers.md, "Measured"):
# docker-registry (no referrers API) and the fake ACR (with it).
#   bench/referrers.sh            (REPOS=300 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin acr-index --example seed --example fake_registry
# Debug build: request counts do not depend on the build.
BIN=./target/debug/acr-index
REPOS=${REPOS:-300}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf $work' EXIT
reqs() { $BIN --db "$1" runs --format json --limit 1 | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]["requests"]; print(sum(v for k,v in r.items() if k not in ("retries","throttled")), "referrers=%d" % r.get("referrers",0), json.dumps({k:v for k,v in r.items() if v and k not in ("retries","throttled")}))'; }
port=5177
cat >"$work/reg.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
REG=http://127.0.0.1:$port
./target/debug/examples/seed "$REG" --repos "$REPOS" --tags 1 2>/dev/null
db=$work/v2.db
echo "distribution cold: $($BIN -q --db $db index --registry $REG --concurrency 16 >/dev/null; reqs $db)"
echo "distribution warm: $($BIN -q --db $db index --registry $REG --concurrency 16 >/dev/null; reqs $db)"
./target/debug/examples/fake_registry --images "$REPOS" --repos "$REPOS" --acr --referrers >"$work/fake.log" & pids+=($!)
for _ in $(seq 200); do [ -s "$work/fake.log" ] && break; sleep 0.05; done
ACR=$(head -1 "$work/fake.log")
db=$work/acr.db
for run in cold second warm; do
  echo "fake ACR (referrers API) $run: $($BIN -q --db $db index --registry $ACR --api acr --concurrency 16 >/dev/null; reqs $db)"
done
