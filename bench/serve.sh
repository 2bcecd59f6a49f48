#!/usr/bin/env bash
# serve under load: requests/s and p50/p99 latency for a search by commit
# (GET /api/v1/images?commit=SHA) and an image page (GET /images/REF) at 1,
# 16 and 64 concurrent clients (wrk), and the server's memory. Prints a
# markdown section; bench/run.sh calls it on its 100,000-image database.
#   bench/serve.sh [DB GEN_OUTPUT]   (without them: builds the database with
#                                      examples/gen_db; GEN_OUTPUT is what it printed)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
# BENCH_PREBUILT=1: use the release binaries already in target/.
[ -n "${BENCH_PREBUILT:-}" ] || cargo build --release --quiet --bin acr-index --example gen_db
BIN=$PWD/target/release/acr-index
work=$(mktemp -d); spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"' EXIT
db=${1:-}
if [ -z "$db" ]; then
  db=$work/big.db
  ./target/release/examples/gen_db "$db" >"$work/gen.txt" 2>&1
else
  cp "$2" "$work/gen.txt"
fi
sha=$(sed -n 's/^commit=//p' "$work/gen.txt")
digest=$(sed -n 's/^digest=//p' "$work/gen.txt")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" -q --db "$db" serve --listen "127.0.0.1:$port" & spid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$port
search="/api/v1/images?commit=$sha"
page="/images/$digest"
for p in "$search" "$page"; do
  code=$(curl -s -o "$work/body" -w '%{http_code}' "$base$p")
  [ "$code" = 200 ] || { echo "bench/serve.sh: $p answered $code: $(head -c 300 "$work/body")" >&2; exit 1; }
done
rows=$(curl -s "$base$search" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

echo
echo "## 6. serve under load ($(sqlite3 "$db" 'SELECT count(*) FROM manifests') manifests)"
echo
echo "\`bench/serve.sh\`: wrk -d5s --latency against a release build on 127.0.0.1, $(nproc) cores shared with wrk."
echo "Search by commit: \`GET /api/v1/images?commit=<40 hex>\` ($rows rows of JSON); image page: \`GET /images/<digest>\` (HTML)."
echo
echo "| request | clients | requests/s | p50 | p99 | target p99 < 50 ms at 64 |"
echo "|---|---|---|---|---|---|"
ms() { # wrk latency (e.g. 812.00us, 3.21ms, 1.02s) in ms
  python3 -c "import sys; v=sys.argv[1]; u={'us':0.001,'ms':1,'s':1000}; n=v.rstrip('usm'); print(f'{float(n)*u[v[len(n):]]:.2f} ms')" "$1"
}
for what in search page; do
  path=$([ $what = search ] && echo "$search" || echo "$page")
  for c in 1 16 64; do
    t=$([ $c = 1 ] && echo 1 || echo 2)
    wrk -t$t -c$c -d5s --latency "$base$path" >"$work/wrk" 2>&1
    rps=$(awk '/Requests\/sec/{print $2}' "$work/wrk")
    p50=$(awk '$1=="50%"{print $2}' "$work/wrk")
    p99=$(awk '$1=="99%"{print $2}' "$work/wrk")
    errs=$(awk '/Non-2xx/{print $NF}' "$work/wrk")
    verdict=-
    if [ $c = 64 ]; then
      verdict=$(python3 -c "import sys; print('met' if float(sys.argv[1].split()[0]) < 50 else 'missed')" "$(ms "$p99")")
    fi
    echo "| $what | $c | ${rps%.*}${errs:+ ($errs non-2xx)} | $(ms "$p50") | $(ms "$p99") | $verdict |"
  done
done
hwm=$(awk '/VmHWM/{print $2}' /proc/$spid/status)
rss=$(awk '/VmRSS/{print $2}' /proc/$spid/status)
echo
echo "- server memory after the runs above: peak RSS $((hwm / 1024)) MiB, current RSS $((rss / 1024)) MiB"
